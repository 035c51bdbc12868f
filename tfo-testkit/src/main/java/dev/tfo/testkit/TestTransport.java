package dev.tfo.testkit;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.Version;
import org.junit.jupiter.api.Assumptions;

import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The Netty transports under test, on Netty 4.1 and 4.2 from one source tree: the one place that knows
 * how to make each transport's event loop group and which channel classes it has (in the manner of Netty's
 * own testsuite permutations).
 *
 * <p>Everything is looked up by name, so that tests compiled against 4.2 run on 4.1: on 4.2 a group is a
 * {@code MultiThreadIoEventLoopGroup} with the transport's {@code IoHandler} factory, on 4.1 the transport's
 * own {@code EpollEventLoopGroup}/{@code NioEventLoopGroup}. io_uring is Netty 4.2's built-in
 * {@code io.netty.channel.uring}; Netty 4.1 has none, and there any use of {@link #IO_URING} aborts the test
 * with the declared reason {@value #NO_IO_URING_ON_41} (JUnit counts it as skipped, {@code test.sh} accepts
 * exactly such skips and prints them). On 4.2 a missing or unusable io_uring is never a skip: the test fails
 * with Netty's reason.
 *
 * <p>This enum is the only list of transports in the tests: fixtures take a {@code TestTransport}, and a
 * parameterized test takes its transports from here, {@link #tfoCapable()} (through
 * {@code @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")}) or every constant
 * ({@code @EnumSource(TestTransport.class)}). Adding a transport is one constant below; a test that needs data of
 * its own per transport (e.g. a server address per transport, as cookies are cached per destination IP) derives
 * it, e.g. from {@link #ordinal()}.
 *
 * <pre>{@code
 * @ParameterizedTest
 * @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")
 * void echoes(TestTransport transport) {
 *     EventLoopGroup group = transport.newGroup(2);          // declared skip for io_uring on Netty 4.1
 *     new ServerBootstrap().group(group).channel(transport.serverChannel())...
 * }
 * }</pre>
 */
public enum TestTransport {
    /** Linux epoll ({@code io.netty.channel.epoll}), on both lines. */
    EPOLL("epoll", true, "io.netty.channel.epoll.EpollIoHandler", "io.netty.channel.epoll.EpollEventLoopGroup",
            "io.netty.channel.epoll.EpollServerSocketChannel", "io.netty.channel.epoll.EpollSocketChannel"),
    /** Linux io_uring, Netty 4.2's built-in {@code io.netty.channel.uring} (none on 4.1). */
    IO_URING("io_uring", true, "io.netty.channel.uring.IoUringIoHandler", null,
            "io.netty.channel.uring.IoUringServerSocketChannel", "io.netty.channel.uring.IoUringSocketChannel"),
    /** Java NIO, on both lines: never TFO. */
    NIO("nio", false, "io.netty.channel.nio.NioIoHandler", "io.netty.channel.nio.NioEventLoopGroup",
            "io.netty.channel.socket.nio.NioServerSocketChannel", "io.netty.channel.socket.nio.NioSocketChannel");

    /** How every declared skip's message starts: {@code test.sh} accepts skips with it and no other. */
    public static final String DECLARED = "declared: ";
    /** The declared reason io_uring tests are skipped on Netty 4.1. */
    public static final String NO_IO_URING_ON_41 = "declared: Netty 4.1 has no io_uring transport";

    private static final String IO_HANDLER_FACTORY = "io.netty.channel.IoHandlerFactory";
    private static final String MULTI_THREAD_IO_GROUP = "io.netty.channel.MultiThreadIoEventLoopGroup";

    private final String displayName;
    private final boolean tfo;
    private final String ioHandler;
    private final String group41;
    private final String serverChannel;
    private final String channel;

    TestTransport(String displayName, boolean tfo, String ioHandler, String group41, String serverChannel,
                  String channel) {
        this.displayName = displayName;
        this.tfo = tfo;
        this.ioHandler = ioHandler;
        this.group41 = group41;
        this.serverChannel = serverChannel;
        this.channel = channel;
    }

    /**
     * The transports that can carry data in a SYN, each one a test permutation: epoll and io_uring (a declared
     * skip on Netty 4.1, so the count of tests is the same on both lines). The source of every parameterized TFO
     * test: {@code @MethodSource("dev.tfo.testkit.TestTransport#tfoCapable")}.
     *
     * @return epoll, io_uring (the constants that do TFO, in declaration order)
     */
    public static List<TestTransport> tfoCapable() {
        return Arrays.stream(values()).filter(TestTransport::isTfoCapable).toList();
    }

    /**
     * Whether this transport can carry data in a SYN: it is one of {@link #tfoCapable()}.
     *
     * @return {@code true} for epoll and io_uring, {@code false} for NIO
     */
    public boolean isTfoCapable() {
        return tfo;
    }

    /**
     * The transport of a name, as agents and command lines spell it.
     *
     * @param name {@code epoll}, {@code io_uring} or {@code nio} (any case)
     * @return the transport
     * @throws IllegalArgumentException for any other name
     */
    public static TestTransport of(String name) {
        for (TestTransport t : values()) {
            if (t.displayName.equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("transport: expected " + names() + ", got " + name);
    }

    /** Every display name, as a sentence lists them: {@code epoll, io_uring or nio}. */
    private static String names() {
        List<String> names = Arrays.stream(values()).map(TestTransport::displayName).toList();
        int last = names.size() - 1;
        return last == 0 ? names.get(0) : String.join(", ", names.subList(0, last)) + " or " + names.get(last);
    }

    /**
     * Whether Netty on the class path is the 4.2 line (or later): it has {@code IoHandlerFactory}.
     *
     * @return {@code true} on 4.2, {@code false} on 4.1
     */
    public static boolean ioHandlerApi() {
        return load(IO_HANDLER_FACTORY).isPresent();
    }

    /**
     * The version of {@code netty-transport} on the class path, from Netty's own version properties.
     *
     * @return e.g. {@code 4.1.130.Final}
     * @throws IllegalStateException when Netty carries no version information
     */
    public static String nettyVersion() {
        Version v = Version.identify(EventLoopGroup.class.getClassLoader()).get("netty-transport");
        if (v == null) {
            throw new IllegalStateException("no version information for netty-transport on the class path");
        }
        return v.artifactVersion();
    }

    /**
     * Every Netty artifact on the class path and its version.
     *
     * @return artifact id to version, sorted by artifact id
     */
    public static SortedMap<String, String> nettyArtifacts() {
        SortedMap<String, String> m = new TreeMap<>();
        Version.identify(EventLoopGroup.class.getClassLoader()).forEach((a, v) -> m.put(a, v.artifactVersion()));
        return m;
    }

    /**
     * The name users write, e.g. in {@code --transport}.
     *
     * @return {@code epoll}, {@code io_uring} or {@code nio}
     */
    public String displayName() {
        return displayName;
    }

    /**
     * A loopback address of this transport's own, {@code 127.0.<ordinal>.<host>}: the kernel caches TFO cookies
     * per destination IP, so a scenario that runs once per transport gives each run a server address of its own
     * (epoll's is {@code 127.0.0.<host>}). Any address in {@code 127.0.0.0/8} is on {@code lo}.
     *
     * @param host the scenario's last octet, 1 to 254
     * @return e.g. {@code 127.0.1.31} for io_uring and host 31
     */
    public String loopbackAddress(int host) {
        if (host < 1 || host > 254) {
            throw new IllegalArgumentException("host: 1 to 254, got " + host);
        }
        return "127.0." + ordinal() + "." + host;
    }

    /**
     * Why this transport does not exist on the Netty line of the class path, if it does not.
     *
     * @return {@value #NO_IO_URING_ON_41} for io_uring on Netty 4.1, else empty
     */
    public Optional<String> declaredAbsence() {
        return this == IO_URING && !ioHandlerApi() ? Optional.of(NO_IO_URING_ON_41) : Optional.empty();
    }

    /**
     * Aborts the running test with the declared reason when this transport does not exist on this Netty line
     * (JUnit reports it skipped); does nothing otherwise. Called by every method below.
     */
    public void assumePresent() {
        declaredAbsence().ifPresent(Assumptions::abort);
    }

    /**
     * A new event loop group of this transport.
     *
     * @param threads the number of event loops
     * @return the group; shut it down after use
     * @throws IllegalStateException when the transport cannot be used (e.g. its native library does not load),
     *                               with Netty's reason
     */
    public EventLoopGroup newGroup(int threads) {
        assumePresent();
        try {
            if (ioHandlerApi()) {
                Object factory = require(ioHandler).getMethod("newFactory").invoke(null);
                return (EventLoopGroup) require(MULTI_THREAD_IO_GROUP)
                        .getConstructor(int.class, require(IO_HANDLER_FACTORY)).newInstance(threads, factory);
            }
            return (EventLoopGroup) require(group41).getConstructor(int.class).newInstance(threads);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(displayName + ": cannot make an event loop group: " + e.getCause(),
                    e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(displayName + ": cannot make an event loop group: " + e, e);
        }
    }

    /**
     * The transport's TCP server channel class.
     *
     * @return e.g. {@code EpollServerSocketChannel}
     */
    public Class<? extends ServerSocketChannel> serverChannel() {
        assumePresent();
        return require(serverChannel).asSubclass(ServerSocketChannel.class);
    }

    /**
     * The transport's TCP client channel class.
     *
     * @return e.g. {@code EpollSocketChannel}
     */
    public Class<? extends SocketChannel> channel() {
        assumePresent();
        return require(channel).asSubclass(SocketChannel.class);
    }

    @Override
    public String toString() {
        return displayName;
    }

    private Class<?> require(String name) {
        return load(name).orElseThrow(() -> new IllegalStateException(displayName + ": " + name
                + " is not on the class path of Netty " + nettyVersion() + " (the "
                + displayName.toLowerCase(Locale.ROOT) + " transport's classes are missing)"));
    }

    private static Optional<Class<?>> load(String name) {
        try {
            return Optional.of(Class.forName(name, true, TestTransport.class.getClassLoader()));
        } catch (ClassNotFoundException | LinkageError e) {
            return Optional.empty();
        }
    }
}
