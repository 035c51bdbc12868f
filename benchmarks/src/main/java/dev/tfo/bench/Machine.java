package dev.tfo.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A one-line description of the machine a run was measured on. */
final class Machine {
    private Machine() {
    }

    static String describe() {
        String cpu = "?";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            // keep "?"
        }
        String kernel = System.getProperty("os.name") + " " + System.getProperty("os.version");
        return "nproc " + Runtime.getRuntime().availableProcessors() + ", CPU " + cpu + ", " + kernel + ", JDK "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + ", Netty " + nettyVersion();
    }

    static String nettyVersion() {
        var v = io.netty.util.Version.identify().get("netty-transport");
        return v == null ? "?" : v.artifactVersion();
    }
}
