package dev.tfo.scenario;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The bytes of one scenario connection: a header {@code [length:int][seed:int]} then deterministic bytes
 * derived from the seed, so that the receiver can check every byte without being told what to expect.
 */
final class Payload {
    static final int HEADER = 8;

    private Payload() {
    }

    static byte at(int seed, int i) {
        int x = seed * 0x9E3779B1 + i * 0x85EBCA6B;
        x ^= x >>> 15;
        x *= 0x2C1B3C6D;
        x ^= x >>> 12;
        return (byte) x;
    }

    static ByteBuf build(ByteBufAllocator alloc, int seed, int length) {
        if (length < HEADER) {
            throw new IllegalArgumentException("length must be >= " + HEADER);
        }
        byte[] bytes = new byte[length];
        for (int i = HEADER; i < length; i++) {
            bytes[i] = at(seed, i);
        }
        // one write of the whole array: under paranoid leak detection each access of a buffer may record a
        // stack trace, and a byte-by-byte fill made a burst of connects CPU-bound in the agent
        ByteBuf b = alloc.buffer(length);
        b.writeInt(length).writeInt(seed).writeBytes(bytes, HEADER, length - HEADER);
        return b;
    }
}
