/** The mDNS-specific tests of mdns-ns.ts, for the jest side to report on one by one. */
export const MDNS_NAMESPACE_TESTS = [
  'announces <instance>._rpcxservices.local (no _tcp label) on the SRV port with one Go-format TXT string and an address record',
  'the instance defaults to the host name',
  'filterByService: false lists every service of every server, as Go does',
  'a TXT longer than 255 bytes goes out as 255-byte strings and is read back whole',
  'an announcement in Go’s exact format (fixture from Go) is read',
  'an instance whose TXT is not rpcx JSON is skipped with a warning',
] as const;
