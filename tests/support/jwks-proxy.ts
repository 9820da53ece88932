/**
 * A TLS proxy in front of a real API server that answers `GET /openid/v1/jwks` itself, as a
 * broken or hostile front of a cluster could: everything else goes to the API server unchanged.
 * A request that presented a client certificate is forwarded with the admin's credentials, one
 * that did not is forwarded anonymously, so the API server still decides what each may do.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { makeCertificate } from "./test-pki";

/** Answers the key set request instead of the API server; `undefined` passes it through. */
export type JwksRoute = (res: http.ServerResponse) => void;

export interface JwksProxy {
  url: string;
  /** The CA of the proxy's certificate, PEM: the kubeconfig's `certificate-authority-data`. */
  caPem: string;
  /** How the next key set requests are answered; `undefined` passes them through. */
  route: JwksRoute | undefined;
  close(): Promise<void>;
}

/** The credentials the proxy forwards with: the admin kubeconfig's cluster CA and client cert. */
export interface Upstream {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

/** Starts the proxy on a loopback port. */
export async function startJwksProxy(upstream: Upstream): Promise<JwksProxy> {
  const ca = makeCertificate({ cn: "jwks-proxy-ca", ca: true, keyUsage: ["keyCertSign"] });
  const leaf = makeCertificate(
    { cn: "127.0.0.1", ca: false, serverAuth: true, ips: ["127.0.0.1"] },
    ca,
  );
  const admin = new https.Agent({
    keepAlive: true,
    ca: upstream.ca,
    cert: upstream.cert,
    key: upstream.key,
  });
  const anonymous = new https.Agent({ keepAlive: true, ca: upstream.ca });
  const proxy: JwksProxy = { url: "", caPem: ca.cert, route: undefined, close: async () => {} };
  const server = https.createServer(
    { key: leaf.key, cert: leaf.cert, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const authenticated = (req.socket as TLSSocket).getPeerCertificate()?.raw !== undefined;
      if (proxy.route && authenticated && req.url?.split("?")[0] === "/openid/v1/jwks") {
        return proxy.route(res);
      }
      const out = https.request(
        new URL(req.url ?? "/", upstream.server),
        {
          method: req.method,
          headers: { ...req.headers, host: new URL(upstream.server).host },
          agent: authenticated ? admin : anonymous,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on("error", () => res.destroy());
      req.pipe(out);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      admin.destroy();
      anonymous.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
