/**
 * The echo example of transport-tfo: a server and a client that report, per connection, whether TCP Fast
 * Open (RFC 7413) carried the data in the SYN. {@link dev.tfo.example.echo.Main} parses the command line,
 * {@link dev.tfo.example.echo.EchoServer} and {@link dev.tfo.example.echo.EchoClient} are the code to copy.
 */
package dev.tfo.example.echo;
