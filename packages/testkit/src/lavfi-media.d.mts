export declare const MINUS_23_LUFS_AMPLITUDE: number;
export declare function makeReferenceTone(path: string, seconds: number): void;
export declare function makeMusic(
  path: string,
  seconds: number,
  options?: {
    tags?: Record<string, string>;
    cover?: boolean;
    coverColor?: string;
    codec?: string[];
    root?: number;
  },
): void;
export type Material = "noise" | "chord" | "mix";
export declare const MATERIALS: readonly Material[];
export declare function makeMaterial(
  path: string,
  seconds: number,
  kind: Material,
  options?: { root?: number },
): void;
