package dev.tfo.spring.boot;

import dev.tfo.TfoResult;
import dev.tfo.TfoResultListener;
import io.netty.channel.Channel;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tfo.spring.boot.Witness.WAIT;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A {@link TfoResultListener} bean of the test application: the starter tells every such bean each connection's
 * result (as it tells the meters), so the test sees the {@link TfoResult} of each connection the application made
 * or accepted, with its channel. It adds nothing to any pipeline.
 */
final class TfoProbe implements TfoResultListener {
    record Seen(Channel channel, TfoResult result) {
    }

    final BlockingQueue<Seen> clients = new LinkedBlockingQueue<>();
    final BlockingQueue<Seen> servers = new LinkedBlockingQueue<>();
    /** Completed with the next client result: a test server holds its response until then. */
    final AtomicReference<CompletableFuture<TfoResult>> nextClient = new AtomicReference<>();

    @Override
    public void onResult(Channel channel, TfoResult result) {
        if (channel.parent() != null) {
            servers.add(new Seen(channel, result));
        } else {
            clients.add(new Seen(channel, result));
            CompletableFuture<TfoResult> next = nextClient.getAndSet(null);
            if (next != null) {
                next.complete(result);
            }
        }
    }

    static Seen next(BlockingQueue<Seen> queue, String what) throws InterruptedException {
        Seen seen = queue.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(seen, what + ": the application reported a result");
        return seen;
    }
}
