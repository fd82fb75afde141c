/** The tests of cli-mdns-ns.ts, for the jest side to report on one by one. */
export const CLI_MDNS_TESTS = ['rpcx list mdns:// lists every announced service; rpcx call mdns:// calls through it'] as const;
