#!/usr/bin/env python3
"""Check a pg_hba.conf candidate line by line before it is installed.

Structural checks only (PostgreSQL's own parser, through pg_hba_file_rules, checks the installed file afterwards):
known connection type and method, an address for every non-local line, a valid CIDR or host name, never 'trust'.
Prints one line per problem with its line number and exits 1 when there is any.
"""

import ipaddress
import re
import sys

TYPES = {"local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
METHODS = {"scram-sha-256", "md5", "password", "peer", "ident", "cert", "reject", "gss", "sspi", "ldap", "radius",
           "pam", "bsd"}
KEYWORDS = {"all", "samehost", "samenet"}
HOSTNAME = re.compile(r"^\.?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


def check_address(address, fields, index):
    """Return (problem or None, index of the method field)."""
    if address in KEYWORDS or (HOSTNAME.match(address) and not address.replace(".", "").isdigit()):
        return None, index + 1
    if "/" in address:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError as exc:
            return f"invalid address {address!r}: {exc}", index + 1
        return None, index + 1
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return f"invalid address {address!r}", index + 1
    # Address followed by a separate netmask.
    if len(fields) <= index + 1:
        return f"address {address!r} without netmask or method", index + 1
    try:
        ipaddress.ip_network(f"{address}/{fields[index + 1]}", strict=False)
    except ValueError as exc:
        return f"invalid netmask {fields[index + 1]!r}: {exc}", index + 2
    return None, index + 2


def check_line(line):
    fields = line.split()
    if fields[0] not in TYPES:
        return f"unknown connection type {fields[0]!r}"
    if fields[0] == "local":
        if len(fields) < 4:
            return "too few fields (local DATABASE USER METHOD)"
        method_index = 3
    else:
        if len(fields) < 5:
            return "too few fields (TYPE DATABASE USER ADDRESS METHOD)"
        problem, method_index = check_address(fields[3], fields, 3)
        if problem:
            return problem
        if len(fields) <= method_index:
            return "missing authentication method"
    method = fields[method_index]
    if method == "trust":
        return "method 'trust' is not allowed (use scram-sha-256 or peer)"
    if method not in METHODS:
        return f"unknown authentication method {method!r}"
    for option in fields[method_index + 1:]:
        if "=" not in option:
            return f"option {option!r} is not key=value"
    return None


def main(path):
    problems = []
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            problem = check_line(line)
            if problem:
                problems.append(f"{path} line {number}: {problem}: {raw.strip()}")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
