// Phonemes to model input ids, exactly as piper-phonemize's phonemes_to_ids does it: the start
// symbol "^" and a pad, then every phoneme's ids each followed by the pad "_", then the end symbol
// "$". Phonemes are Unicode code points after NFD decomposition ("ç" is "c" + U+0327), as
// piper-phonemize decomposes espeak's output. A phoneme missing from the voice's map is skipped
// and counted, never an error: espeak can emit symbols a voice was not trained on.

export const PAD = '_';
export const BOS = '^';
export const EOS = '$';

export interface PhonemeIds {
  readonly ids: number[];
  /** Phoneme -> how many times it was skipped because the map has no ids for it. */
  readonly missing: Map<string, number>;
}

/** The code points piper feeds the model (NFD-decomposed). */
export function piperPhonemes(ipa: string): string[] {
  return [...ipa.normalize('NFD')];
}

export function phonemesToIds(ipa: string, map: Readonly<Record<string, readonly number[]>>): PhonemeIds {
  const get = (p: string): readonly number[] => {
    const v = map[p];
    if (!v) throw new Error(`phoneme_id_map has no "${p}"`);
    return v;
  };
  const pad = get(PAD);
  const ids: number[] = [...get(BOS), ...pad];
  const missing = new Map<string, number>();
  for (const p of piperPhonemes(ipa)) {
    const v = map[p];
    if (!v) {
      missing.set(p, (missing.get(p) ?? 0) + 1);
      continue;
    }
    ids.push(...v, ...pad);
  }
  ids.push(...get(EOS));
  return { ids, missing };
}
