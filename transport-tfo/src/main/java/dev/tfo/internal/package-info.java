/**
 * Implementation details of {@code dev.tfo}: procfs and {@code tcp_info} decoding, transport detection and
 * the channel handlers that carry a first flight. Not API: may change in any release.
 */
package dev.tfo.internal;
