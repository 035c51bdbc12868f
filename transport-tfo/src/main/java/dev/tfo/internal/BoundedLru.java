package dev.tfo.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A thread-safe map that forgets its least recently used entry beyond a fixed size: per-destination memory
 * that a JVM talking to millions of addresses cannot grow without bound.
 *
 * @param <K> the key
 * @param <V> the value
 */
public final class BoundedLru<K, V> {
    private final int maxSize;
    private final LinkedHashMap<K, V> map;
    private volatile int size;

    /**
     * An empty map.
     *
     * @param maxSize the most entries kept, &gt; 0
     */
    public BoundedLru(int maxSize) {
        if (maxSize <= 0) {
            throw new IllegalArgumentException("maxSize must be > 0, was " + maxSize);
        }
        this.maxSize = maxSize;
        this.map = new LinkedHashMap<K, V>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > BoundedLru.this.maxSize;
            }
        };
    }

    /**
     * The value of a key, marking it used.
     *
     * @param key the key
     * @return its value, or {@code null}
     */
    public V get(K key) {
        if (size == 0) {
            return null; // the common case, without a lock
        }
        synchronized (map) {
            return map.get(key);
        }
    }

    /**
     * Sets a key's value.
     *
     * @param key   the key
     * @param value the value
     * @return the previous value, or {@code null}
     */
    public V put(K key, V value) {
        synchronized (map) {
            V previous = map.put(key, value);
            size = map.size();
            return previous;
        }
    }

    /**
     * The value of a key, created when absent.
     *
     * @param key     the key
     * @param factory makes the value of an absent key
     * @return the value
     */
    public V computeIfAbsent(K key, Function<? super K, ? extends V> factory) {
        synchronized (map) {
            V v = map.computeIfAbsent(key, factory);
            size = map.size();
            return v;
        }
    }

    /**
     * Forgets a key.
     *
     * @param key the key
     * @return its value, or {@code null}
     */
    public V remove(K key) {
        if (size == 0) {
            return null;
        }
        synchronized (map) {
            V v = map.remove(key);
            size = map.size();
            return v;
        }
    }

    /**
     * How many entries are kept.
     *
     * @return the size
     */
    public int size() {
        return size;
    }

    /**
     * The most entries kept.
     *
     * @return the bound
     */
    public int maxSize() {
        return maxSize;
    }

    /**
     * Counts the values that match.
     *
     * @param test the condition
     * @return how many values meet it
     */
    public int count(java.util.function.Predicate<? super V> test) {
        synchronized (map) {
            int n = 0;
            for (V v : map.values()) {
                if (test.test(v)) {
                    n++;
                }
            }
            return n;
        }
    }
}
