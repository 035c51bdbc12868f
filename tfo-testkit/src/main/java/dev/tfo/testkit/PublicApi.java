package dev.tfo.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The public API of one package, as text, recorded in a file under version control: a test compares the
 * compiled classes with the file and fails on any difference, so that every change to the API is a reviewed
 * diff (the habit of Kotlin's binary-compatibility validator). {@code -Dtfo.updateApi=true} rewrites the file.
 *
 * <p>Listed: every public type of the package (nested ones too), with its public and protected constructors,
 * methods and fields, in their generic form, sorted.
 */
public final class PublicApi {
    /** The system property that rewrites the file instead of comparing. */
    public static final String UPDATE = "tfo.updateApi";

    private PublicApi() {
    }

    /**
     * The API text of the package of {@code anchor}.
     *
     * @param anchor any class of the package
     * @return one line per type and member
     */
    public static String of(Class<?> anchor) {
        String pkg = anchor.getPackageName();
        StringBuilder out = new StringBuilder();
        for (Class<?> type : types(anchor, pkg)) {
            out.append(typeLine(type)).append('\n');
            TreeSet<String> members = new TreeSet<>();
            for (Constructor<?> c : type.getDeclaredConstructors()) {
                if (visible(c)) {
                    members.add(c.toGenericString());
                }
            }
            for (Method m : type.getDeclaredMethods()) {
                if (visible(m) && !m.isSynthetic() && !m.isBridge()) {
                    members.add(m.toGenericString().replace(" " + type.getTypeName() + "." + m.getName() + "(",
                            " " + m.getName() + "("));
                }
            }
            for (Field f : type.getDeclaredFields()) {
                if (visible(f) && !f.isSynthetic()) {
                    members.add(f.toGenericString().replace(" " + type.getTypeName() + "." + f.getName(),
                            " " + f.getName()));
                }
            }
            for (String m : members) {
                out.append("  ").append(m).append('\n');
            }
        }
        return out.toString();
    }

    /**
     * How many public types, methods (constructors not counted) and constants the package has.
     *
     * @param anchor any class of the package
     * @return {@code {types, methods, fields}}
     */
    public static int[] counts(Class<?> anchor) {
        int[] n = new int[3];
        for (Class<?> type : types(anchor, anchor.getPackageName())) {
            n[0]++;
            for (Method m : type.getDeclaredMethods()) {
                if (visible(m) && !m.isSynthetic() && !m.isBridge()) {
                    n[1]++;
                }
            }
            for (Field f : type.getDeclaredFields()) {
                if (visible(f) && !f.isSynthetic() && !f.isEnumConstant()) {
                    n[2]++;
                }
            }
        }
        return n;
    }

    /**
     * Compares the package's API with {@code file}; with {@code -Dtfo.updateApi=true} writes it instead.
     *
     * @param anchor any class of the package
     * @param file   the recorded API
     * @return {@code null} when they match (or the file was written), else a message with the difference
     */
    public static String check(Class<?> anchor, Path file) {
        String now = of(anchor);
        try {
            if (Boolean.getBoolean(UPDATE)) {
                Files.createDirectories(file.getParent());
                Files.writeString(file, now, StandardCharsets.UTF_8);
                return null;
            }
            String recorded = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
            if (recorded.equals(now)) {
                return null;
            }
            List<String> was = recorded.lines().collect(Collectors.toList());
            List<String> is = now.lines().collect(Collectors.toList());
            StringBuilder diff = new StringBuilder("the public API of " + anchor.getPackageName()
                    + " differs from " + file + " (review the change, then run the build with -D" + UPDATE
                    + "=true and commit the file):\n");
            for (String l : was) {
                if (!is.contains(l)) {
                    diff.append("- ").append(l).append('\n');
                }
            }
            for (String l : is) {
                if (!was.contains(l)) {
                    diff.append("+ ").append(l).append('\n');
                }
            }
            return diff.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String typeLine(Class<?> type) {
        String kind = type.isAnnotation() ? "@interface" : type.isInterface() ? "interface"
                : type.isEnum() ? "enum" : type.isRecord() ? "record" : "class";
        int mods = type.getModifiers() & (Modifier.PUBLIC | Modifier.PROTECTED | Modifier.STATIC | Modifier.FINAL
                | (type.isInterface() ? 0 : Modifier.ABSTRACT));
        if (type.isEnum() || type.isRecord()) {
            mods &= ~(Modifier.FINAL | Modifier.STATIC);
        }
        StringBuilder line = new StringBuilder(Modifier.toString(mods)).append(' ').append(kind).append(' ')
                .append(type.getTypeName());
        if (type.getGenericSuperclass() != null && type.getSuperclass() != Object.class && !type.isEnum()
                && !type.isRecord()) {
            line.append(" extends ").append(type.getGenericSuperclass().getTypeName());
        }
        if (type.getGenericInterfaces().length > 0 && !type.isAnnotation()) {
            line.append(type.isInterface() ? " extends " : " implements ").append(Stream.of(type.getGenericInterfaces())
                    .map(java.lang.reflect.Type::getTypeName).collect(Collectors.joining(", ")));
        }
        return line.toString();
    }

    private static boolean visible(Member m) {
        int mods = m.getModifiers();
        return Modifier.isPublic(mods) || Modifier.isProtected(mods);
    }

    /** The public types of the package (nested public types included), by name. */
    private static List<Class<?>> types(Class<?> anchor, String pkg) {
        Path root;
        try {
            root = Path.of(Objects.requireNonNull(anchor.getProtectionDomain().getCodeSource()).getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        String dir = pkg.replace('.', '/') + '/';
        TreeSet<String> names = new TreeSet<>();
        try {
            if (Files.isDirectory(root)) {
                try (Stream<Path> files = Files.list(root.resolve(dir))) {
                    files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".class"))
                            .forEach(n -> names.add(pkg + '.' + n.substring(0, n.length() - 6)));
                }
            } else {
                try (JarFile jar = new JarFile(root.toFile())) {
                    jar.stream().map(e -> e.getName())
                            .filter(n -> n.startsWith(dir) && n.endsWith(".class") && n.indexOf('/', dir.length()) < 0)
                            .forEach(n -> names.add(n.substring(0, n.length() - 6).replace('/', '.')));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Class<?>> types = new ArrayList<>();
        for (String name : names) {
            if (name.endsWith("package-info") || name.endsWith("module-info")) {
                continue;
            }
            Class<?> type;
            try {
                type = Class.forName(name, false, anchor.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            if (Modifier.isPublic(type.getModifiers()) && !type.isAnonymousClass() && !type.isLocalClass()
                    && (type.getEnclosingClass() == null || Modifier.isPublic(type.getEnclosingClass().getModifiers()))) {
                types.add(type);
            }
        }
        return types;
    }
}
