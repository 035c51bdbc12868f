package dev.tfo.example.echo;

import dev.tfo.TfoCounters;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToLongFunction;

/** The kernel's {@code TCPFastOpen*} counters by their kernel names, in the kernel's order: what the reports print. */
final class KernelCounters {
    private static final Map<String, ToLongFunction<TfoCounters>> BY_NAME = new LinkedHashMap<>();

    static {
        BY_NAME.put("TCPFastOpenActive", TfoCounters::active);
        BY_NAME.put("TCPFastOpenActiveFail", TfoCounters::activeFail);
        BY_NAME.put("TCPFastOpenPassive", TfoCounters::passive);
        BY_NAME.put("TCPFastOpenPassiveFail", TfoCounters::passiveFail);
        BY_NAME.put("TCPFastOpenListenOverflow", TfoCounters::listenOverflow);
        BY_NAME.put("TCPFastOpenCookieReqd", TfoCounters::cookieReqd);
        BY_NAME.put("TCPFastOpenBlackhole", TfoCounters::blackhole);
        BY_NAME.put("TCPFastOpenPassiveAltKey", TfoCounters::passiveAltKey);
    }

    private KernelCounters() {
    }

    /** Every counter of {@code counters}, by kernel name, in the kernel's order. */
    static Map<String, Long> of(TfoCounters counters) {
        Map<String, Long> values = new LinkedHashMap<>();
        BY_NAME.forEach((name, counter) -> values.put(name, counter.applyAsLong(counters)));
        return values;
    }
}
