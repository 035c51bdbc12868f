package dev.tfo.example.echo;

import io.netty.channel.DefaultChannelId;

/**
 * A JVM that makes one Netty channel id, as any Netty program does, without the example's machine id: in a
 * namespace with only {@code lo} Netty then logs that it found no usable hardware address.
 */
public final class ChannelIdProbe {
    private ChannelIdProbe() {
    }

    /**
     * Prints one new channel id.
     *
     * @param args none
     */
    public static void main(String[] args) {
        System.out.println(DefaultChannelId.newInstance().asLongText());
    }
}
