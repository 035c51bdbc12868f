package dev.tfo.internal;

import dev.tfo.testkit.FreshNetns;
import org.junit.jupiter.api.Test;

/** The surefire execution netns-test runs on the same Netty as default-test: see {@link NettyVersionTest}. */
@FreshNetns
class NettyVersionNetnsTest {
    @Test
    void theTestClassPathCarriesOnlyTheNettyThisBuildTests() throws Exception {
        NettyVersionTest.assertClassPath();
    }
}
