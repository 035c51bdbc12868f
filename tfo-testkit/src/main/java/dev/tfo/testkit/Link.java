package dev.tfo.testkit;

import java.net.InetAddress;

/**
 * A veth pair between two hosts of a {@link Lab}, with a /24 from 198.18.0.0/15: the first host gets
 * {@code .1}, the second {@code .2}. Both ends are up when {@link Lab#link} returns.
 */
public final class Link {

    private final Host a;
    private final Host b;
    private final String ifaceA;
    private final String ifaceB;
    private final InetAddress addressA;
    private final InetAddress addressB;
    private final String subnet;

    Link(Host a, Host b, String ifaceA, String ifaceB, String net) {
        this.a = a;
        this.b = b;
        this.ifaceA = ifaceA;
        this.ifaceB = ifaceB;
        this.subnet = net + ".0/24";
        this.addressA = Host.parseAddress(net + ".1");
        this.addressB = Host.parseAddress(net + ".2");
    }

    /**
     * Returns the first host given to {@link Lab#link}.
     *
     * @return host a (address {@code .1})
     */
    public Host a() {
        return a;
    }

    /**
     * Returns the second host given to {@link Lab#link}.
     *
     * @return host b (address {@code .2})
     */
    public Host b() {
        return b;
    }

    /**
     * Returns the address of a host on this link.
     *
     * @param host one of the two ends
     * @return its address on this link
     */
    public InetAddress address(Host host) {
        return host == a ? addressA : check(host) == b ? addressB : null;
    }

    /**
     * Returns the interface name of a host on this link (e.g. {@code eth0}).
     *
     * @param host one of the two ends
     * @return its interface name, inside its namespace
     */
    public String iface(Host host) {
        return host == a ? ifaceA : check(host) == b ? ifaceB : null;
    }

    /**
     * Returns the other end.
     *
     * @param host one of the two ends
     * @return the other one
     */
    public Host peer(Host host) {
        return host == a ? b : check(host) == b ? a : null;
    }

    /**
     * Returns the link's subnet.
     *
     * @return e.g. {@code 198.18.1.0/24}
     */
    public String subnet() {
        return subnet;
    }

    /** Takes both ends down (the wire is cut; addresses stay). */
    public void down() {
        a.exec("ip", "link", "set", ifaceA, "down");
        b.exec("ip", "link", "set", ifaceB, "down");
    }

    /** Brings both ends up again. */
    public void up() {
        a.exec("ip", "link", "set", ifaceA, "up");
        b.exec("ip", "link", "set", ifaceB, "up");
    }

    private Host check(Host host) {
        if (host != a && host != b) {
            throw new IllegalArgumentException(host + " is not an end of " + this);
        }
        return host;
    }

    @Override
    public String toString() {
        return "Link[" + a.label() + ":" + ifaceA + " " + addressA.getHostAddress() + " <-> " + b.label() + ":"
                + ifaceB + " " + addressB.getHostAddress() + "]";
    }
}
