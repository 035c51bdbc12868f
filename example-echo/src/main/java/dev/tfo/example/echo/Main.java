package dev.tfo.example.echo;

import dev.tfo.TfoSupport;
import io.netty.channel.EventLoopGroup;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The {@code example-echo} command: a TCP Fast Open echo client ({@link EchoClient}), server
 * ({@link EchoServer}), or both in one process ({@code -l}), reporting per connection whether the data
 * travelled in the SYN ({@link Report}).
 *
 * <p>Exit status: 0 when every connection was echoed intact (or the server stopped on a signal), 1 on a
 * failure (port in use, unreachable server, early close, corrupted echo), 2 on bad usage.
 */
@Command(name = "example-echo", sortOptions = false, usageHelpAutoWidth = true,
        description = {"TCP Fast Open echo client and server on Netty (transport-tfo).",
                "Each connection sends the payload as its first flight (in the SYN once the kernel holds a cookie "
                        + "for the server), checks every echoed byte, and reports the TFO outcome from tcp_info."},
        footer = {"", "Examples:",
                "  example-echo -l                     # server + client in one process",
                "  example-echo --listen-only -p 2222  # server only, until SIGTERM/SIGINT",
                "  example-echo -s 198.18.42.10 --count 10 --json",
                "  example-echo --listen-only --metrics-port 9464  # Prometheus text on http://127.0.0.1:9464/metrics",
                "", "Exit status: 0 all echoed intact, 1 failure, 2 bad usage."})
public final class Main implements Callable<Integer> {
    /** Exit status of a failure (connection, bind, corrupted echo). */
    public static final int FAILURE = 1;
    /** Exit status of bad usage. */
    public static final int USAGE = 2;
    static final String DEFAULT_HOST = "127.0.0.1";
    static final String DEFAULT_MESSAGE = "Hello, TCP Fast Open!";
    /** Netty's system property for the machine id in its channel ids. */
    static final String MACHINE_ID = "io.netty.machineId";

    @Option(names = {"-s", "--server"}, paramLabel = "HOST",
            description = "Server to connect to, and with -l the address to listen on (default: " + DEFAULT_HOST
                    + "; --listen-only: all addresses).")
    String host;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", defaultValue = "2222",
            description = "Port (default: ${DEFAULT-VALUE}; 0 with -l/--listen-only: any free port).")
    int port;

    @Option(names = {"-l", "--listen"}, description = "Listen, and connect to itself.")
    boolean listen;

    @Option(names = "--listen-only", description = "Only serve, until SIGTERM/SIGINT.")
    boolean listenOnly;

    @Option(names = "--count", paramLabel = "N", defaultValue = "2",
            description = "Connections, one after the other (default: ${DEFAULT-VALUE}: the second shows TFO).")
    int count;

    @Option(names = "--message", paramLabel = "TEXT", description = "Payload, as UTF-8 (default: \"" + DEFAULT_MESSAGE + "\").")
    String message;

    @Option(names = "--size", paramLabel = "BYTES", description = "Random payload of this many bytes instead.")
    Integer size;

    @Option(names = "--transport", paramLabel = "epoll|io_uring|nio",
            description = "Netty transport (default: epoll, else io_uring, else nio). Only epoll and io_uring do TFO.")
    NettyTransport transport;

    @Option(names = "--connect-then-write",
            description = "Connect, then write the message once the channel is active (the usual Netty pattern; "
                    + "the library's handler is put on each channel at its init) instead of handing it to "
                    + "TfoBootstraps.connect as the first flight.")
    boolean connectThenWrite;

    @Option(names = "--json", description = "JSON Lines on stdout: one object per connection, then a summary.")
    boolean json;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Connect timeout, and echo timeout, per connection (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--metrics", description = "At exit, print the TFO meters (Prometheus text format).")
    boolean metrics;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "While running, serve the TFO meters in the Prometheus text format on "
                    + "http://HOST:PORT" + EchoMetrics.PATH + " (0: any free port).")
    Integer metricsPort;

    @Option(names = "--metrics-host", paramLabel = "HOST",
            description = "The address for --metrics-port (default: " + DEFAULT_HOST + ").")
    String metricsHost;

    @Option(names = "--diagnose", description = "Print what TCP Fast Open can do here, and the kernel's counters; exit.")
    boolean diagnose;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    CommandSpec spec;

    private final PrintStream out;
    private final PrintStream err;

    Main(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** Runs the command and exits with its status. */
    public static void main(String[] args) {
        // First, before any Netty class loads: Netty reads the machine id once.
        randomMachineIdUnlessSet(System.getProperties(), ThreadLocalRandom.current());
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            // Netty logs through java.util.logging here: one line per message, like ours.
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        }
        System.exit(run(System.out, System.err, args));
    }

    /**
     * Sets {@value #MACHINE_ID} to a random id for this process unless the user set it. Netty derives its
     * channel ids from a "machine id", by default a network interface's hardware address; in a network
     * namespace with only {@code lo} ({@code unshare -rn}, a container without a network) it finds none and
     * logs "Failed to find a usable hardware address" on every run, then uses random bytes anyway. Done here,
     * by the application: a library must not set system properties.
     *
     * @param properties where to set it (the system properties)
     * @param random     the source of the 8 bytes
     */
    static void randomMachineIdUnlessSet(Properties properties, Random random) {
        if (properties.getProperty(MACHINE_ID) != null) {
            return;
        }
        byte[] id = new byte[8];
        random.nextBytes(id);
        id[0] = (byte) (id[0] & ~0x01 | 0x02); // an EUI-64 that is unicast and locally administered
        StringBuilder sb = new StringBuilder(23);
        for (byte b : id) {
            sb.append(sb.length() == 0 ? "" : ":").append(String.format("%02x", b & 0xff));
        }
        properties.setProperty(MACHINE_ID, sb.toString());
    }

    /**
     * Runs the command.
     *
     * @return the exit status
     */
    public static int run(PrintStream out, PrintStream err, String... args) {
        CommandLine cl = new CommandLine(new Main(out, err))
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true));
        cl.setParameterExceptionHandler((e, ignored) -> {
            e.getCommandLine().getErr().println("example-echo: " + oneLine(e.getMessage()) + " (see --help)");
            return USAGE;
        });
        cl.setExecutionExceptionHandler((e, commandLine, ignored) -> {
            if (!(e instanceof EchoException)) {
                throw e;
            }
            commandLine.getErr().println("example-echo: " + oneLine(e.getMessage()));
            return FAILURE;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() throws EchoException {
        validate();
        TfoSupport support = TfoSupport.current();
        if (diagnose) {
            out.println(support.describe());
            out.println("TCPFastOpen counters: " + EchoClient.countersOrNull());
            return 0;
        }
        // About what this run does: a client-only run needs the client bit, --listen-only the server bit.
        StartupWarning.of(support, !listenOnly, listen || listenOnly)
                .ifPresent(warning -> err.println("example-echo: " + warning));
        NettyTransport chosen = transport != null ? transport : NettyTransport.best();
        if (chosen.unavailabilityCause() != null) {
            throw new EchoException("transport " + chosen + " is unavailable: "
                    + EchoException.describe(chosen.unavailabilityCause()));
        }
        return listenOnly ? serve(chosen) : echo(chosen);
    }

    private void validate() {
        int lowest = listen || listenOnly ? 0 : 1;
        if (port < lowest || port > 65535) {
            throw usage("port out of range: " + port + " (" + lowest + "..65535)");
        }
        if (listen && listenOnly) {
            throw usage("-l/--listen and --listen-only exclude each other");
        }
        if (message != null && size != null) {
            throw usage("--message and --size exclude each other");
        }
        if (message != null && message.isEmpty()) {
            throw usage("--message must not be empty");
        }
        if (size != null && (size < 1 || size > 64 << 20)) {
            throw usage("--size must be 1.." + (64 << 20) + " bytes, was " + size);
        }
        if (count < 1) {
            throw usage("--count must be at least 1, was " + count);
        }
        if (timeoutSeconds < 1) {
            throw usage("--timeout must be at least 1 second, was " + timeoutSeconds);
        }
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw usage("--metrics-port out of range: " + metricsPort + " (0..65535)");
        }
        if (metricsHost != null && metricsPort == null) {
            throw usage("--metrics-host needs --metrics-port");
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** {@code --listen-only}: serve until SIGTERM/SIGINT, then stop gracefully. */
    private int serve(NettyTransport chosen) throws EchoException {
        InetSocketAddress address = host == null ? new InetSocketAddress(port) : resolve(host, port);
        EchoMetrics meters = startMetrics(out);
        EventLoopGroup group = chosen.newGroup(0);
        EchoServer server;
        try {
            server = EchoServer.start(group, chosen, address, out, meters == null ? null : meters.tfo());
        } catch (EchoException e) {
            shutdown(group);
            closeMetrics(meters, out);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("server: shutting down");
            server.close();
            shutdown(group);
            closeMetrics(meters, out);
        }, "example-echo-shutdown"));
        server.closeFuture().syncUninterruptibly();
        return 0;
    }

    /** Client, and with {@code -l} the server it connects to, in this process. */
    private int echo(NettyTransport chosen) throws EchoException {
        byte[] payload = payload();
        InetSocketAddress target = resolve(host == null ? DEFAULT_HOST : host, port);
        // The server's and the meters' lines go to stderr in JSON mode, so that stdout stays JSON Lines.
        PrintStream log = json ? err : out;
        EchoMetrics meters = startMetrics(log);
        EventLoopGroup group = chosen.newGroup(2);
        EchoServer server = null;
        try {
            if (listen) {
                server = EchoServer.start(group, chosen, target, log, meters == null ? null : meters.tfo());
                target = server.localAddress();
            }
            if (!json) {
                out.println("client: " + count + (count == 1 ? " connection" : " connections") + " to "
                        + hostPort(target) + " over " + chosen + ", " + payload.length + "-byte payload"
                        + (connectThenWrite ? ", connect then write" : ", first flight"));
            }
            Report report = json ? Report.jsonLines(out) : Report.human(out);
            EchoClient client = new EchoClient(group, chosen, target, Duration.ofSeconds(timeoutSeconds),
                    connectThenWrite ? EchoClient.Mode.CONNECT_THEN_WRITE : EchoClient.Mode.FIRST_FLIGHT,
                    meters == null ? null : meters.tfo());
            List<ConnectionResult> results = new ArrayList<>(count);
            for (int i = 1; i <= count; i++) {
                ConnectionResult result = client.echo(i, payload);
                results.add(result);
                report.connection(result);
            }
            Summary summary = Summary.of(results);
            report.summary(summary);
            if (!summary.allIntact()) {
                throw new EchoException((summary.connections() - summary.intact()) + " of " + summary.connections()
                        + " connections were NOT echoed intact");
            }
            return 0;
        } finally {
            if (server != null) {
                server.close();
            }
            shutdown(group);
            closeMetrics(meters, log);
        }
    }

    /** The run's meters, when {@code --metrics} or {@code --metrics-port} asks for them; else {@code null}. */
    private EchoMetrics startMetrics(PrintStream log) throws EchoException {
        if (!metrics && metricsPort == null) {
            return null;
        }
        InetSocketAddress serveOn = metricsPort == null ? null
                : resolve(metricsHost == null ? DEFAULT_HOST : metricsHost, metricsPort);
        return EchoMetrics.start(serveOn, log);
    }

    /** At exit: prints the meters when {@code --metrics} asked for them, and stops serving them. */
    private void closeMetrics(EchoMetrics meters, PrintStream log) {
        if (meters == null) {
            return;
        }
        if (metrics) {
            log.println("metrics (Prometheus text format):");
            log.print(meters.scrape());
            log.flush();
        }
        meters.close();
    }

    private byte[] payload() {
        if (size != null) {
            byte[] random = new byte[size];
            new Random().nextBytes(random);
            return random;
        }
        return (message != null ? message : DEFAULT_MESSAGE).getBytes(StandardCharsets.UTF_8);
    }

    private static InetSocketAddress resolve(String host, int port) throws EchoException {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new EchoException("cannot resolve host " + host);
        }
        return address;
    }

    private static void shutdown(EventLoopGroup group) {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** {@code 127.0.0.1:2222}, {@code [::1]:2222}, {@code *:2222} (all addresses). */
    static String hostPort(InetSocketAddress address) {
        if (address.getAddress() != null && address.getAddress().isAnyLocalAddress()) {
            return "*:" + address.getPort();
        }
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        return (address.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    private static String oneLine(String message) {
        return String.valueOf(message).strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
