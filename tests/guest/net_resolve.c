// SPDX-License-Identifier: MIT
/*
 * Name resolution with no set-up of the program's own: getaddrinfo of
 * "localhost" (from /etc/hosts), of numeric addresses v4 and v6, a service
 * by name (/etc/services), getnameinfo back to numbers, getprotobyname
 * (/etc/protocols), and the errors for a bad service and a bad family.
 * Then the address getaddrinfo gave is used: a TCP listener bound to it
 * and a connection to it over the loopback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"

static int has_v4(const struct addrinfo *r, const char *want, int port)
{
	for (; r; r = r->ai_next) {
		if (r->ai_family != AF_INET)
			continue;
		const struct sockaddr_in *a = (const void *)r->ai_addr;
		char s[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a->sin_addr, s, sizeof(s));
		if (!strcmp(s, want) && ntohs(a->sin_port) == port)
			return 1;
	}
	return 0;
}

static void lookups(void)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *r = NULL;

	int e = getaddrinfo("localhost", "80", &hints, &r);
	okf(e == 0 && has_v4(r, "127.0.0.1", 80), "getaddrinfo(localhost, 80): 127.0.0.1:80", "%s",
	    gai_strerror(e));
	if (!e)
		freeaddrinfo(r);

	e = getaddrinfo("localhost", "http", &hints, &r);
	okf(e == 0 && has_v4(r, "127.0.0.1", 80), "getaddrinfo(localhost, http): port 80 by name", "%s",
	    gai_strerror(e));
	if (!e)
		freeaddrinfo(r);

	hints.ai_flags = AI_NUMERICHOST;
	e = getaddrinfo("10.1.2.3", "7", &hints, &r);
	okf(e == 0 && has_v4(r, "10.1.2.3", 7), "a numeric IPv4 address", "%s", gai_strerror(e));
	if (!e)
		freeaddrinfo(r);

	hints.ai_family = AF_INET6;
	e = getaddrinfo("::1", "443", &hints, &r);
	int v6 = e == 0 && r->ai_family == AF_INET6 && r->ai_addrlen == sizeof(struct sockaddr_in6) &&
		 IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)r->ai_addr)->sin6_addr) &&
		 ntohs(((struct sockaddr_in6 *)r->ai_addr)->sin6_port) == 443;
	okf(v6, "a numeric IPv6 address: ::1 port 443", "%s", gai_strerror(e));
	if (!e)
		freeaddrinfo(r);

	hints.ai_family = AF_INET;
	hints.ai_flags = 0;
	e = getaddrinfo("localhost", "no-such-service-here", &hints, &r);
	okf(e != 0, "an unknown service is an error", "%d", e);
	hints.ai_family = 12345;
	e = getaddrinfo("localhost", "80", &hints, &r);
	okf(e == EAI_FAMILY, "an unknown family: EAI_FAMILY", "%s", gai_strerror(e));

	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(22) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	char host[64], serv[32];
	e = getnameinfo((void *)&a, sizeof(a), host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV);
	okf(e == 0 && !strcmp(host, "127.0.0.1") && !strcmp(serv, "22"),
	    "getnameinfo, numeric: 127.0.0.1 22", "%s", gai_strerror(e));
	e = getnameinfo((void *)&a, sizeof(a), host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST);
	okf(e == 0 && !strcmp(serv, "ssh"), "getnameinfo names port 22 ssh", "%s %s", gai_strerror(e),
	    serv);

	struct servent *sv = getservbyname("domain", "udp");
	ok(sv && ntohs(sv->s_port) == 53, "getservbyname(domain, udp): 53");
	struct protoent *p = getprotobyname("tcp");
	ok(p && p->p_proto == 6, "getprotobyname(tcp): 6");
}

/* The address resolution gave serves: a listener and a client meet on it. */
static void use_it(void)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *r = NULL;
	if (getaddrinfo("localhost", "0", &hints, &r)) {
		ok(0, "getaddrinfo for the listener");
		return;
	}
	int l = socket(r->ai_family, r->ai_socktype, r->ai_protocol);
	ok(l >= 0 && bind(l, r->ai_addr, r->ai_addrlen) == 0 && listen(l, 4) == 0,
	   "a listener on what getaddrinfo(localhost) gave");
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	ok(getsockname(l, (void *)&me, &len) == 0 && me.sin_port != 0,
	   "getsockname gives the chosen port");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	ok(c >= 0 && connect(c, (void *)&me, len) == 0, "a client connects to it");
	int s = accept(l, NULL, NULL);
	char b[8] = "";
	ok(s >= 0 && write(c, "hello", 5) == 5 && read(s, b, sizeof(b)) == 5 && !memcmp(b, "hello", 5),
	   "and the bytes arrive");
	close(s);
	close(c);
	close(l);
	freeaddrinfo(r);
}

int main(void)
{
	lookups();
	use_it();
	return bad;
}
