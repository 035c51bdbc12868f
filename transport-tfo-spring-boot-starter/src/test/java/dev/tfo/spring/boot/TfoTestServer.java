package dev.tfo.spring.boot;

import dev.tfo.TfoResult;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.LoopResources;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

import static dev.tfo.spring.boot.Witness.WAIT;

/**
 * A Reactor Netty server of the test's own, with TFO on its listener, on its own loopback address: what the
 * application's WebClient talks to. It closes every connection after its response ({@code Connection: close}), so
 * that each request of the application's pooled client opens a new connection, and it holds each response until the
 * application has decided its client connection's result (Reactor Netty closes the connection once the response is
 * read, which on loopback could beat that decision).
 */
final class TfoTestServer implements AutoCloseable {
    final BlockingQueue<TfoResult> results = new LinkedBlockingQueue<>();
    final List<String> posts = new CopyOnWriteArrayList<>();
    /** The client verdict the next response waits for, or {@code null}: answer at once. */
    final AtomicReference<CompletableFuture<TfoResult>> hold = new AtomicReference<>();
    private final String ip;
    private final DisposableServer server;

    TfoTestServer(String ip, LoopResources loops) {
        this.ip = ip;
        this.server = HttpServer.create().host(ip).port(0).runOn(loops)
                .option(TfoListenerOption.TCP_FASTOPEN, 64) // raw: follows the live sysctl, whatever Netty read at init
                .doOnConnection(c -> results.add(TfoResult.of(c.channel()).getNow()))
                .route(r -> r
                        .get("/hello", (req, res) -> res.keepAlive(false).sendString(held("hello")))
                        .post("/orders", (req, res) -> res.keepAlive(false).sendString(req.receive().aggregate()
                                .asString().doOnNext(posts::add).flatMap(body -> held("accepted " + body)))))
                .bindNow(WAIT);
    }

    private Mono<String> held(String answer) {
        return Mono.defer(() -> {
            CompletableFuture<TfoResult> verdict = hold.get();
            return verdict == null ? Mono.just(answer) : Mono.fromFuture(verdict).timeout(WAIT).thenReturn(answer);
        });
    }

    int port() {
        return server.port();
    }

    String url(String path) {
        return "http://" + ip + ":" + port() + path;
    }

    @Override
    public void close() {
        server.disposeNow(WAIT);
    }
}
