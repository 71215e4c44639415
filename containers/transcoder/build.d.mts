export declare function bundleForNode(entry: string, outfile: string): Promise<string>;
export declare function buildTranscoder(outfile?: string): Promise<string>;
