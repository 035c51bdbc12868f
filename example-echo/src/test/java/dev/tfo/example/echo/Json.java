package dev.tfo.example.echo;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the flat fields of one JSON Lines object from the report (strings, numbers, booleans), for assertions. */
final class Json {
    private static final Pattern FIELD = Pattern.compile(
            "\"([A-Za-z_]+)\":(\"(?:[^\"\\\\]|\\\\.)*\"|-?[0-9]+(?:\\.[0-9]+)?|true|false|null)");

    private Json() {
    }

    /** Top-level and nested scalar fields by name (the report's names are unique enough for tests). */
    static Map<String, String> fields(String line) {
        if (!line.startsWith("{") || !line.endsWith("}")) {
            throw new AssertionError("not a JSON object: " + line);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        Matcher m = FIELD.matcher(line);
        while (m.find()) {
            String value = m.group(2);
            fields.putIfAbsent(m.group(1), value.startsWith("\"") ? unquote(value) : value);
        }
        return fields;
    }

    private static String unquote(String literal) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i < literal.length() - 1; i++) {
            char c = literal.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = literal.charAt(++i);
            switch (e) {
                case 'n': sb.append('\n'); break;
                case 'r': sb.append('\r'); break;
                case 't': sb.append('\t'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'u':
                    sb.append((char) Integer.parseInt(literal.substring(i + 1, i + 5), 16));
                    i += 4;
                    break;
                default: sb.append(e);
            }
        }
        return sb.toString();
    }
}
