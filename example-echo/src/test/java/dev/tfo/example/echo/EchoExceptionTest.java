package dev.tfo.example.echo;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EchoExceptionTest {

    @Test
    void describeGivesTheMostTellingMessageOnOneLine() {
        assertEquals("refused", EchoException.describe(new RuntimeException(new IOException("refused"))));
        assertEquals("a b", EchoException.describe(new IOException("a\n  b")));
        assertEquals("IOException", EchoException.describe(new IOException()));
    }
}
