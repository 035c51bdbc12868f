package dev.tfo.testkit;

/** Parses /proc/net/netstat (pairs of header and value lines). Internal. */
final class Netstat {

    private Netstat() {
    }

    static long counter(String netstat, String group, String name) {
        String[] lines = netstat.split("\n");
        for (int i = 0; i + 1 < lines.length; i += 2) {
            String[] keys = lines[i].trim().split("\\s+");
            String[] values = lines[i + 1].trim().split("\\s+");
            if (keys.length == 0 || !keys[0].equals(group + ":")) {
                continue;
            }
            for (int k = 1; k < keys.length && k < values.length; k++) {
                if (keys[k].equals(name)) {
                    return Long.parseLong(values[k]);
                }
            }
        }
        throw new LabException("no counter " + group + "." + name + " in /proc/net/netstat");
    }
}
