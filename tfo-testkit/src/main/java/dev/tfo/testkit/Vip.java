package dev.tfo.testkit;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

/**
 * One service address (VIP) served by several server hosts, of which exactly one receives the traffic
 * at a time, like an anycast address or a load balancer failover: "two servers at the same address,
 * traffic moved between them".
 *
 * <p>Built by {@link Lab#vip}: a router namespace linked to the client(s) and to every server; each
 * server has the VIP (a /32 from 198.19.255.0/24) on its {@code lo}; the router has a host route for the
 * VIP via the active server. {@link #moveTo(Host)} replaces that route atomically: packets of existing
 * connections then reach a server with no socket for them (RST), new connections go to the new server,
 * and a client's TFO cookie (cached per destination IP) is presented to a server that did not issue it.
 */
public final class Vip {

    private final InetAddress address;
    private final Host router;
    private final List<Host> clients;
    private final List<Host> servers;
    private final Map<Host, InetAddress> nextHops;
    private Host current;

    Vip(InetAddress address, Host router, List<Host> clients, List<Host> servers, Map<Host, InetAddress> nextHops,
            Host current) {
        this.address = address;
        this.router = router;
        this.clients = List.copyOf(clients);
        this.servers = List.copyOf(servers);
        this.nextHops = Map.copyOf(nextHops);
        this.current = current;
    }

    /**
     * Returns the VIP.
     *
     * @return the service address clients connect to
     */
    public InetAddress address() {
        return address;
    }

    /**
     * Returns the server now receiving the VIP's traffic.
     *
     * @return the active server
     */
    public synchronized Host current() {
        return current;
    }

    /**
     * Routes the VIP to another server from now on ({@code ip route replace} in the router).
     *
     * @param server one of the servers given to {@link Lab#vip}
     */
    public synchronized void moveTo(Host server) {
        InetAddress hop = nextHops.get(server);
        if (hop == null) {
            throw new IllegalArgumentException(server + " does not serve " + address.getHostAddress());
        }
        router.exec("ip", "route", "replace", address.getHostAddress() + "/32", "via", hop.getHostAddress());
        current = server;
    }

    /**
     * Returns the router namespace between clients and servers (e.g. to capture there).
     *
     * @return the router host
     */
    public Host router() {
        return router;
    }

    /**
     * Returns the servers that hold the VIP.
     *
     * @return the servers, in the order given
     */
    public List<Host> servers() {
        return servers;
    }

    /**
     * Returns the clients routed to the VIP.
     *
     * @return the clients
     */
    public List<Host> clients() {
        return clients;
    }

    @Override
    public synchronized String toString() {
        return "Vip[" + address.getHostAddress() + " -> " + current.label() + "]";
    }
}
