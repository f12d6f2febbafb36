// A real DNS server (UDP, in-process, dns2) answering TXT queries from a map tests edit, so domain
// verification runs through node:dns exactly as in production.
import dns2 from 'dns2';

/** The running server and the records it answers. */
export interface TestDnsServer {
  /** host:port to give the resolver. */
  address: string;
  /** TXT records by lower-case name; each record is a list of strings. */
  txt: Map<string, string[][]>;
  /** Names asked, in order. */
  queries: string[];
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 and a free port. Unknown names get NXDOMAIN. */
export async function startDnsServer(): Promise<TestDnsServer> {
  const txt = new Map<string, string[][]>();
  const queries: string[] = [];
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const question = request.questions[0];
      const name = (question?.name ?? '').toLowerCase();
      queries.push(name);
      const records = txt.get(name);
      if (!records) response.header.rcode = Packet.RCODE.NXDOMAIN;
      else if (question?.type === Packet.TYPE.TXT) for (const data of records) response.answers.push({ name: question.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 1, data } as never);
      void send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  return {
    address: `127.0.0.1:${addresses.udp!.port}`,
    txt,
    queries,
    close: () => server.close(),
  };
}
