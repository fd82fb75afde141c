/** The tests of mdns-go-ns.ts, for the jest side to report on one by one. */
export const MDNS_GO_TESTS = [
  "a Go server announced by Go's mDNS plugin is found and called by our XClient, and leaves our list when it stops",
  "our server announced by our mDNS plugin is found and called by Go's client, and leaves Go's list when it stops",
] as const;
