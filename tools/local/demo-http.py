# A demo Pod's HTTP server (runs inside the Pod's network namespace): answers every GET on each given port with
# "hello from <pod> on <node> (port <p>)". Standard library only.
import http.server, socketserver, sys, threading

pod, node, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]


def handler_for(port):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"hello from {pod} on {node} (port {port})\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return H


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


servers = [Server(("0.0.0.0", p), handler_for(p)) for p in ports]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print("ready", flush=True)
servers[0].serve_forever()
