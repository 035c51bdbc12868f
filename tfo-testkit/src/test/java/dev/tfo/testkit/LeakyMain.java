package dev.tfo.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

/** Test main: leaks one ByteBuf on purpose, prints {@code leaked}, and exits normally. */
public final class LeakyMain {

    private LeakyMain() {
    }

    /**
     * Entry point.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        leak();
        System.out.println("leaked");
    }

    private static void leak() {
        ByteBuf buf = UnpooledByteBufAllocator.DEFAULT.directBuffer(8);
        buf.writeLong(42);
        buf.touch("deliberately leaked by LeakyMain");
    }
}
