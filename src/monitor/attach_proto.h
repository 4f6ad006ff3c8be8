/* attach_proto.h - what a client and berth-monitor say on attach.sock.
 *
 * A SOCK_SEQPACKET unix socket, so every message is one packet: a type byte
 * and its payload. The client speaks first (HELLO); the monitor then sends
 * what the container writes, and EXIT when its init is gone.
 *
 *   client -> monitor   HELLO  flags (one byte: ATTACH_STDIN|STDOUT|STDERR, and
 *                              ATTACH_CLEANUP: "after EXIT I record the exit and
 *                              clean up myself": the attached `berth run`,
 *                              which saves an exec of berth on its path)
 *                       STDIN  bytes for the container's stdin (or its pty)
 *                       CLOSE  no more stdin (the monitor closes the container's
 *                              stdin when Config.StdinOnce)
 *                       RESIZE rows, cols (two uint16, host order)
 *                       DONE   (after EXIT, from the ATTACH_CLEANUP client) the exit is
 *                              recorded: the monitor exits without its exit command;
 *                              if that client goes away without DONE, it runs it
 *   monitor -> client   STDOUT bytes, STDERR bytes
 *                       EXIT   int32 exit code (128+N for signal N), then the
 *                              monitor closes the socket
 */
#ifndef BERTH_MONITOR_ATTACH_PROTO_H
#define BERTH_MONITOR_ATTACH_PROTO_H

enum attach_msg {
	ATTACH_MSG_HELLO = 'H',
	ATTACH_MSG_STDIN = 'I',
	ATTACH_MSG_CLOSE = 'C',
	ATTACH_MSG_RESIZE = 'R',
	ATTACH_MSG_DONE = 'D',
	ATTACH_MSG_STDOUT = 'O',
	ATTACH_MSG_STDERR = 'E',
	ATTACH_MSG_EXIT = 'X',
};

enum { ATTACH_STDIN = 1, ATTACH_STDOUT = 2, ATTACH_STDERR = 4, ATTACH_CLEANUP = 8 };

/* How long the monitor waits for DONE before it cleans up itself. */
#define ATTACH_CLEANUP_WAIT_MS 30000

/* The largest payload of one message. */
#define ATTACH_MAX_PAYLOAD 32768

#endif
