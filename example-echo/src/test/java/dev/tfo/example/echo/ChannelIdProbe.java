package dev.tfo.example.echo;

import io.netty.channel.DefaultChannelId;

/**
 * A JVM that makes one Netty channel id, as any Netty program does, without the example's machine id: in a
 * namespace with only {@code lo} Netty then logs that it found no usable hardware address.
 */
final class ChannelIdProbe {
    private ChannelIdProbe() {
    }

    public static void main(String[] args) {
        System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
        System.out.println(DefaultChannelId.newInstance().asLongText());
    }
}
