package dev.tfo;

import dev.tfo.internal.ReplaySafePrefix;
import io.netty.buffer.ByteBuf;

/** The built-in {@link TfoSynDataPolicy} instances. */
final class SynDataPolicies {
    static final ReplaySafe REPLAY_SAFE = new ReplaySafe();
    static final TfoSynDataPolicy ANY = new TfoSynDataPolicy() {
        @Override
        public int admit(ByteBuf firstWrite) {
            return firstWrite.readableBytes();
        }

        @Override
        public String toString() {
            return "TfoSynDataPolicy.any()";
        }
    };

    private SynDataPolicies() {
    }

    /**
     * How many of {@code buf[index, index + length)} {@code policy} admits, clamped to {@code [0, length]};
     * built-in policies read the buffer in place, others get a read-only view.
     */
    static int admit(TfoSynDataPolicy policy, ByteBuf buf, int index, int length) {
        int admitted;
        if (policy == REPLAY_SAFE) {
            admitted = ReplaySafePrefix.of(buf, index, length);
        } else if (policy == ANY) {
            admitted = length;
        } else {
            admitted = policy.admit(buf.slice(index, length).asReadOnly());
        }
        return Math.max(0, Math.min(admitted, length));
    }

    /** {@link TfoSynDataPolicy#replaySafe()}. */
    static final class ReplaySafe implements TfoSynDataPolicy {
        private ReplaySafe() {
        }

        @Override
        public int admit(ByteBuf firstWrite) {
            return ReplaySafePrefix.of(firstWrite, firstWrite.readerIndex(), firstWrite.readableBytes());
        }

        @Override
        public String toString() {
            return "TfoSynDataPolicy.replaySafe()";
        }
    }
}
