// Test audio comes from the shared lavfi generator (also used by npm start's demo catalog).
export {
  makeMusic,
  makeReferenceTone,
  MINUS_23_LUFS_AMPLITUDE,
} from "../../../scripts/lib/lavfi-media.mjs";
