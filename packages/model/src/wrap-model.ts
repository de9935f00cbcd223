import { onnx } from 'onnx-proto';
import { requiredLogits, type ModelManifest } from './model-manifest';

/**
 * Wraps a user's model.onnx into the graph the workers run, so the accelerator does the
 * arithmetic around the model and only (1 + 2k) bytes per pixel come back instead of 19 float32
 * logits (76 bytes):
 *
 *   pixels uint8 [N,C,H,W] -> Cast float -> (x - mean[c]) / std[c] -> user graph -> Gather the
 *   manifest's logits L (axis 1) -> TopK k on the logits -> rank 0 -> Gather ids => class_id uint8 [N,H,W]
 *                                                        -> Gather ids           => top_ids  uint8 [N,k,H,W]
 *   top logits t, max m = t[rank 0]: exp(t - m) / sum_c exp(L_c - m) x 255     => top_probs uint8 [N,k,H,W]
 *
 * That is the softmax of the top k only: ONNX Softmax along the class axis of NCHW costs
 * onnxruntime's CPU provider a transpose each way (170 ms of a 512 px window, profiled, against
 * about 30 ms for this), and only k of its values are kept.
 *
 * Op semantics this relies on (ONNX operator docs, https://onnx.ai/onnx/operators/):
 * - TopK-11: "Given two equivalent values, this operator uses the indices along the axis as a
 *   tiebreaker. That is, the element with the lower index will appear first." So rank 0 is the
 *   first maximal logit: the tie rule of the JS argmax over logits (`argmaxClassIds`), and of
 *   ArgMax-13 with select_last_index = 0; class ids are unchanged.
 * - ReduceSum-13 takes its axes as an input, hence the opset floor of 13.
 * - Round-11 rounds halves to even, so a probability exactly on a half step may be 1/255 below
 *   JS Math.round's; tiles carry probabilities to +-1/255 anyway.
 */

/** Names of the wrapped graph's input and outputs. */
export const WRAPPED_INPUT = 'pixels';
export const WRAPPED_OUTPUTS = { classIds: 'class_id', topProbs: 'top_probs', topIds: 'top_ids' } as const;
/** Every name from the user's graph gets this prefix, so nothing collides with the wrapper's own `fleet/` names. */
export const USER_PREFIX = 'model/';
/** The opset the wrapper's ops need (ReduceSum with axes as an input). */
export const MIN_WRAPPED_OPSET = 13;
/** Opset 13 needs IR version 7 (ONNX 1.8). */
const MIN_IR_VERSION = 7;

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

export interface WrapOptions {
  /** Classes kept per pixel, 1..number of manifest classes. */
  k: number;
  /** Names the model in errors (the model.onnx path). */
  source: string;
  /** Names the manifest in errors (the model.json path). Default `model.json`. */
  manifestSource?: string;
}

/** A dimension as the graph declares it: a number when fixed, a name (or undefined) when symbolic. */
export type Dim = number | string | undefined;

export interface WrappedModel {
  /** Serialized ModelProto of the wrapped graph. */
  bytes: Uint8Array;
  /** `pixels` dims as declared: `[N, C, H, W]`. */
  inputDims: [Dim, number, Dim, Dim];
  /** The user's logit count when the graph fixes it; undefined when symbolic (only a run tells). */
  logitCount: number | undefined;
  /** Non-fatal changes made to the user's model (an opset raised). */
  warnings: string[];
}

function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function dimOf(d: onnx.TensorShapeProto.IDimension | undefined): Dim {
  if (!d) return undefined;
  if (d.dimValue !== null && d.dimValue !== undefined && num(d.dimValue) > 0) return num(d.dimValue);
  return d.dimParam || undefined;
}

function dimProto(d: Dim, fallback: string): onnx.TensorShapeProto.IDimension {
  return typeof d === 'number' ? { dimValue: d } : { dimParam: d ?? fallback };
}

function valueInfo(name: string, elemType: number, dims: onnx.TensorShapeProto.IDimension[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims } } } };
}

function tensor(name: string, dataType: number, dims: number[], raw: ArrayBufferView): onnx.ITensorProto {
  // rawData is little-endian, which is what typed arrays hold on every Node target
  return { name, dataType, dims, rawData: new Uint8Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) };
}

/** Prefixes every value and node name of a graph, subgraphs (If/Loop/Scan bodies) included. */
function prefixGraph(graph: onnx.IGraphProto, rename: (name: string) => string): void {
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map(rename);
    node.output = (node.output ?? []).map(rename);
    if (node.name) node.name = rename(node.name);
    for (const attr of node.attribute ?? []) {
      // Subgraphs may read outer-scope values by name: the same renaming keeps those references whole.
      if (attr.g) prefixGraph(attr.g, rename);
      for (const g of attr.graphs ?? []) prefixGraph(g, rename);
    }
  }
  for (const t of graph.initializer ?? []) if (t.name) t.name = rename(t.name);
  for (const s of graph.sparseInitializer ?? []) if (s.values?.name) s.values.name = rename(s.values.name);
  for (const list of [graph.input, graph.output, graph.valueInfo]) {
    for (const v of list ?? []) if (v.name) v.name = rename(v.name);
  }
}

function tensorType(v: onnx.IValueInfoProto | undefined): { elemType: number; dims: Dim[] | undefined } {
  const t = v?.type?.tensorType;
  return { elemType: t?.elemType ?? T.UNDEFINED, dims: t?.shape ? (t.shape.dim ?? []).map(dimOf) : undefined };
}

/** Decodes a model.onnx, naming the file when it is not one. */
export function decodeModel(bytes: Uint8Array, source: string): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new Error(`${source}: not a valid ONNX model (${(err as Error).message})`);
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) throw new Error(`${source}: not a valid ONNX model (no graph nodes)`);
  return model;
}

/** Builds the wrapped graph (see the file comment). Validates the user graph's input and output against the manifest. */
export function wrapModel(userOnnx: Uint8Array, manifest: ModelManifest, options: WrapOptions): WrappedModel {
  const { source } = options;
  const jsonSource = options.manifestSource ?? 'model.json';
  const model = decodeModel(userOnnx, source);
  const graph = model.graph!;
  const warnings: string[] = [];
  const classCount = manifest.classes.length;
  if (!Number.isInteger(options.k) || options.k < 1 || options.k > classCount) {
    throw new RangeError(`top-k must be an integer from 1 to ${classCount} (the classes in ${jsonSource}), got ${options.k}`);
  }

  // --- the user's input and output, as the manifest names them ---
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const dataInputs = (graph.input ?? []).filter((v) => !initializerNames.has(v.name));
  const inputNames = dataInputs.map((v) => v.name ?? '');
  const outputNames = (graph.output ?? []).map((v) => v.name ?? '');
  const pick = (wanted: string | undefined, names: string[], kind: 'input' | 'output'): string => {
    if (wanted === undefined) {
      const first = names[0];
      if (first === undefined) throw new Error(`${source}: the graph has no ${kind}`);
      return first;
    }
    if (!names.includes(wanted)) throw new Error(`${jsonSource}: ${kind}: "${wanted}" is not a graph ${kind} of ${source} (it has ${names.join(', ')})`);
    return wanted;
  };
  const inputName = pick(manifest.input, inputNames, 'input');
  const outputName = pick(manifest.output, outputNames, 'output');
  const others = inputNames.filter((n) => n !== inputName);
  if (others.length > 0) throw new Error(`${source}: the graph has inputs besides "${inputName}" (${others.join(', ')}); a model takes one image tensor`);

  const input = tensorType(dataInputs.find((v) => v.name === inputName));
  const output = tensorType(graph.output!.find((v) => v.name === outputName));
  const floatTypes = [T.FLOAT, T.FLOAT16];
  if (!floatTypes.includes(input.elemType)) throw new Error(`${source}: input "${inputName}" must be float32 or float16, got ONNX type ${input.elemType}`);
  if (!floatTypes.includes(output.elemType)) throw new Error(`${source}: output "${outputName}" must be float32 or float16, got ONNX type ${output.elemType}`);
  const bands = manifest.bands.length;
  const inDims: Dim[] = input.dims ?? [undefined, bands, undefined, undefined];
  if (inDims.length !== 4) throw new Error(`${source}: input "${inputName}" must be [N, C, H, W], got [${inDims.join(', ')}]`);
  if (typeof inDims[1] === 'number' && inDims[1] !== bands) {
    throw new Error(`${source}: input "${inputName}" has ${inDims[1]} channels but ${jsonSource} bands lists ${bands} (${manifest.bands.join(',')})`);
  }
  for (const axis of [2, 3]) {
    const size = inDims[axis];
    if (typeof size === 'number' && size !== manifest.patch) {
      throw new Error(`${source}: input "${inputName}" is fixed to ${inDims[2]}x${inDims[3]} but ${jsonSource} patch is ${manifest.patch}`);
    }
  }
  const outDims = output.dims;
  if (outDims && outDims.length !== 4) throw new Error(`${source}: output "${outputName}" must be [N, L, H, W], got [${outDims.join(', ')}]`);
  const logitCount = typeof outDims?.[1] === 'number' ? outDims[1] : undefined;
  const needed = requiredLogits(manifest);
  if (logitCount !== undefined && logitCount < needed) {
    throw new Error(`${source}: output "${outputName}" has ${logitCount} logits but ${jsonSource} classes use logit ${needed - 1} (needs at least ${needed})`);
  }

  // --- the user's graph, renamed into its own namespace ---
  prefixGraph(graph, (name) => (name === '' ? '' : USER_PREFIX + name));
  const userInput = USER_PREFIX + inputName;
  const userOutput = USER_PREFIX + outputName;
  graph.input = (graph.input ?? []).filter((v) => v.name !== userInput && !initializerNames.has((v.name ?? '').slice(USER_PREFIX.length)));
  graph.output = [];

  const opsets = model.opsetImport ?? [];
  const main = opsets.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!main) {
    opsets.push({ domain: '', version: MIN_WRAPPED_OPSET });
  } else if (num(main.version) < MIN_WRAPPED_OPSET) {
    warnings.push(
      `${source}: opset ${num(main.version)} raised to ${MIN_WRAPPED_OPSET} for the postprocessing ops; ` +
        'ops whose definition changed since (Softmax, Split, Squeeze, Unsqueeze, Resize...) may then fail to load: re-export the model with opset >= 13',
    );
    main.version = MIN_WRAPPED_OPSET;
  }
  model.opsetImport = opsets;
  model.irVersion = Math.max(num(model.irVersion), MIN_IR_VERSION);

  // --- the wrapper's nodes ---
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  const node = (opType: string, inputs: string[], outputs: string[], attribute: onnx.IAttributeProto[] = []): void => {
    nodes.push({ opType, name: `fleet/${outputs[0]!.replace(/^(fleet|model)\//, '')}`, input: inputs, output: outputs, attribute });
  };
  const int = (name: string, i: number): onnx.IAttributeProto => ({ name, type: A.INT, i });

  inits.push(tensor('fleet/mean', T.FLOAT, [1, bands, 1, 1], Float32Array.from(manifest.mean)));
  inits.push(tensor('fleet/std', T.FLOAT, [1, bands, 1, 1], Float32Array.from(manifest.std)));
  node('Cast', [WRAPPED_INPUT], ['fleet/pixels_float'], [int('to', T.FLOAT)]);
  node('Sub', ['fleet/pixels_float', 'fleet/mean'], ['fleet/centred']);
  if (input.elemType === T.FLOAT) {
    node('Div', ['fleet/centred', 'fleet/std'], [userInput]);
  } else {
    node('Div', ['fleet/centred', 'fleet/std'], ['fleet/normalised']);
    node('Cast', ['fleet/normalised'], [userInput], [int('to', input.elemType)]);
  }
  // nodes must be in topological order: normalisation, the user's graph, then postprocessing
  const normalisation = nodes.splice(0);

  let logits = userOutput;
  if (output.elemType !== T.FLOAT) {
    node('Cast', [userOutput], ['fleet/logits_float'], [int('to', T.FLOAT)]);
    logits = 'fleet/logits_float';
  }
  inits.push(tensor('fleet/class_logits', T.INT64, [classCount], BigInt64Array.from(manifest.classes, (c) => BigInt(c.logit))));
  inits.push(tensor('fleet/class_ids', T.UINT8, [classCount], Uint8Array.from(manifest.classes, (c) => c.id)));
  inits.push(tensor('fleet/k', T.INT64, [1], BigInt64Array.of(BigInt(options.k))));
  inits.push(tensor('fleet/255', T.FLOAT, [], Float32Array.of(255)));
  inits.push(tensor('fleet/rank0', T.INT64, [], BigInt64Array.of(0n)));
  inits.push(tensor('fleet/starts0', T.INT64, [1], BigInt64Array.of(0n)));
  inits.push(tensor('fleet/ends1', T.INT64, [1], BigInt64Array.of(1n)));
  inits.push(tensor('fleet/axis1', T.INT64, [1], BigInt64Array.of(1n)));
  node('Gather', [logits, 'fleet/class_logits'], ['fleet/enabled_logits'], [int('axis', 1)]);
  node('TopK', ['fleet/enabled_logits', 'fleet/k'], ['fleet/top_logits', 'fleet/top_indices'], [int('axis', 1), int('largest', 1), int('sorted', 1)]);
  // a scalar index drops the axis: [N,k,H,W] -> [N,H,W]
  node('Gather', ['fleet/top_indices', 'fleet/rank0'], ['fleet/best'], [int('axis', 1)]);
  node('Gather', ['fleet/class_ids', 'fleet/best'], [WRAPPED_OUTPUTS.classIds], [int('axis', 0)]);
  node('Slice', ['fleet/top_logits', 'fleet/starts0', 'fleet/ends1', 'fleet/axis1'], ['fleet/max_logit']);
  node('Sub', ['fleet/enabled_logits', 'fleet/max_logit'], ['fleet/shifted']);
  node('Exp', ['fleet/shifted'], ['fleet/exp']);
  node('ReduceSum', ['fleet/exp', 'fleet/axis1'], ['fleet/exp_sum'], [int('keepdims', 1)]);
  node('Sub', ['fleet/top_logits', 'fleet/max_logit'], ['fleet/top_shifted']);
  node('Exp', ['fleet/top_shifted'], ['fleet/top_exp']);
  node('Div', ['fleet/top_exp', 'fleet/exp_sum'], ['fleet/top_values']);
  node('Mul', ['fleet/top_values', 'fleet/255'], ['fleet/top_scaled']);
  node('Round', ['fleet/top_scaled'], ['fleet/top_rounded']);
  node('Cast', ['fleet/top_rounded'], [WRAPPED_OUTPUTS.topProbs], [int('to', T.UINT8)]);
  node('Gather', ['fleet/class_ids', 'fleet/top_indices'], [WRAPPED_OUTPUTS.topIds], [int('axis', 0)]);

  graph.node = [...normalisation, ...(graph.node ?? []), ...nodes];
  graph.initializer = [...(graph.initializer ?? []), ...inits];
  const inputDims: WrappedModel['inputDims'] = [inDims[0], bands, inDims[2], inDims[3]];
  graph.input = [
    valueInfo(WRAPPED_INPUT, T.UINT8, [dimProto(inputDims[0], 'N'), { dimValue: bands }, dimProto(inputDims[2], 'H'), dimProto(inputDims[3], 'W')]),
    ...graph.input,
  ];
  // Output dims stay symbolic: the user's output shape is only checked by running.
  graph.output = [
    valueInfo(WRAPPED_OUTPUTS.classIds, T.UINT8, [{ dimParam: 'N' }, { dimParam: 'H' }, { dimParam: 'W' }]),
    valueInfo(WRAPPED_OUTPUTS.topProbs, T.UINT8, [{ dimParam: 'N' }, { dimValue: options.k }, { dimParam: 'H' }, { dimParam: 'W' }]),
    valueInfo(WRAPPED_OUTPUTS.topIds, T.UINT8, [{ dimParam: 'N' }, { dimValue: options.k }, { dimParam: 'H' }, { dimParam: 'W' }]),
  ];
  return { bytes: onnx.ModelProto.encode(model).finish(), inputDims, logitCount, warnings };
}
