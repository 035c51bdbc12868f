package dev.tfo.scenario;

/**
 * What the seam soak's agents and test share: the client and application patterns, how a connection's id and
 * patterns travel in the {@link Payload} seed, and the record lines the agents print (scenario helper).
 */
final class SeamSoak {
    /** The most bytes a SYN carries on the lab's veth (MTU 1500): a server that got more saw an established client. */
    static final int SYN_DATA_MAX = 1460;
    /** Request sizes, in turn: within one SYN, and beyond it. */
    static final int[] SIZES = {64, 900, 3000, 16000};

    private SeamSoak() {
    }

    /** How the client connects. */
    enum ClientPattern {
        /** {@code TfoTestClients.tfo(b)}, {@code b.connect(server).sync()}, then {@code writeAndFlush(request)}. */
        CONNECT_THEN_WRITE("ctw"),
        /** {@code TfoBootstraps.connect(b, server, request)}. */
        FIRST_FLIGHT("ff");

        final String tag;

        ClientPattern(String tag) {
            this.tag = tag;
        }
    }

    /** What the application does once its request is written (for a first flight: once the future is done). */
    enum AppPattern {
        /** Request, then the echo; the server closes once it echoed everything. */
        ECHO("echo", true),
        /** {@code shutdownOutput()} once the write succeeded, then the echo. */
        HALF_CLOSE("half", true),
        /**
         * {@code writeAndFlush(req).addListener(ChannelFutureListener.CLOSE)}: a one-way message (a first flight:
         * close once its future is done).
         */
        WRITE_CLOSE("wclose", false),
        /** {@code writeAndFlush(req); close()} at once (a first flight: cancel its future at once). */
        WRITE_THEN_CLOSE("now", false);

        final String tag;
        /** Whether the server echoes (else it only counts the bytes: a one-way message). */
        final boolean echo;

        AppPattern(String tag, boolean echo) {
            this.tag = tag;
            this.echo = echo;
        }
    }

    /** The seed of connection {@code id}: its id and patterns, recoverable by the server from the header. */
    static int seed(int id, ClientPattern cp, AppPattern ap) {
        return id << 3 | cp.ordinal() << 2 | ap.ordinal();
    }

    static int id(int seed) {
        return seed >>> 3;
    }

    static AppPattern app(int seed) {
        return AppPattern.values()[seed & 3];
    }

    /** The byte at position {@code pos} of the request of {@code seed} and {@code length}, header included. */
    static byte expected(int seed, int length, long pos) {
        if (pos < 4) {
            return (byte) (length >>> (8 * (3 - pos)));
        }
        if (pos < Payload.HEADER) {
            return (byte) (seed >>> (8 * (7 - pos)));
        }
        return Payload.at(seed, (int) pos);
    }

    /** One field of a tab-separated record line: no tab, no line break. */
    static String field(Object o) {
        return String.valueOf(o).replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }
}
