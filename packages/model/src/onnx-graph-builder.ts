import { onnx } from 'onnx-proto';

/**
 * Builds small ONNX models (Conv/Relu/Add/Mul/Concat over NCHW float32) from TypeScript.
 * Hand-built on the protobuf classes because there is no ONNX builder for Node and this
 * project's machines have no Python: the demo and test models are made here.
 */

/** A value flowing through the graph: its name and channel count (H and W never change). */
export interface TensorRef {
  readonly name: string;
  readonly channels: number;
}

export interface GraphBuilderOptions {
  /** Channels of the `[N, C, H, W]` input. */
  channels: number;
  /** Input tensor name. Default `"input"`. */
  inputName?: string;
  /** Fixed batch size; default: symbolic `"N"` so any batch runs. */
  batch?: number;
  /** Fixed height and width; default: symbolic `"H"` and `"W"`. */
  size?: number;
  /** Graph name stored in the model. Default `"fleet"`. */
  graphName?: string;
}

export interface ConvOptions {
  /** Output channels. */
  outChannels: number;
  /** Odd square kernel side; padding of `(kernel - 1) / 2 * dilation` keeps H and W. Default 1. */
  kernel?: number;
  /** Dilation, same on both axes. Default 1. */
  dilation?: number;
  /** Weights in ONNX order `[out][in][kh][kw]`, length out*in*k*k. */
  weights: Float32Array | readonly number[];
  /** Per-output-channel bias; default none. */
  bias?: Float32Array | readonly number[];
}

/** ONNX opset the built models declare (ORT 1.16+ runs it). */
export const OPSET = 17;
/** IR version 8 goes with opset 17 (ONNX 1.12). */
const IR_VERSION = 8;

function dim(value: number | string): onnx.TensorShapeProto.IDimension {
  return typeof value === 'number' ? { dimValue: value } : { dimParam: value };
}

function floatTensor(name: string, dims: number[], values: Float32Array | readonly number[]): onnx.ITensorProto {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  // rawData is little-endian float32, which is what a Float32Array's bytes are on every Node target.
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  };
}

export class OnnxGraphBuilder {
  /** The graph input. */
  readonly input: TensorRef;
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  private readonly batchDim: number | string;
  private readonly sizeDims: [number | string, number | string];

  constructor(private readonly options: GraphBuilderOptions) {
    if (!Number.isInteger(options.channels) || options.channels < 1) {
      throw new RangeError(`channels must be a positive integer, got ${options.channels}`);
    }
    this.batchDim = options.batch ?? 'N';
    this.sizeDims = options.size === undefined ? ['H', 'W'] : [options.size, options.size];
    this.input = { name: options.inputName ?? 'input', channels: options.channels };
    this.names.add(this.input.name);
  }

  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  /** Convolution with stride 1 and "same" padding. */
  conv(x: TensorRef, o: ConvOptions): TensorRef {
    const k = o.kernel ?? 1;
    const dilation = o.dilation ?? 1;
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0) throw new RangeError(`conv kernel must be odd, got ${k}`);
    const expected = o.outChannels * x.channels * k * k;
    if (o.weights.length !== expected) {
      throw new RangeError(`conv weights: expected ${o.outChannels}x${x.channels}x${k}x${k} = ${expected}, got ${o.weights.length}`);
    }
    if (o.bias && o.bias.length !== o.outChannels) {
      throw new RangeError(`conv bias: expected ${o.outChannels}, got ${o.bias.length}`);
    }
    const w = this.fresh('W');
    this.initializers.push(floatTensor(w, [o.outChannels, x.channels, k, k], o.weights));
    const inputs = [x.name, w];
    if (o.bias) {
      const b = this.fresh('B');
      this.initializers.push(floatTensor(b, [o.outChannels], o.bias));
      inputs.push(b);
    }
    const pad = ((k - 1) / 2) * dilation;
    const out = this.fresh('conv');
    const ints = (name: string, values: number[]): onnx.IAttributeProto => ({
      name,
      type: onnx.AttributeProto.AttributeType.INTS,
      ints: values,
    });
    this.nodes.push({
      opType: 'Conv',
      name: out,
      input: inputs,
      output: [out],
      attribute: [ints('kernel_shape', [k, k]), ints('pads', [pad, pad, pad, pad]), ints('strides', [1, 1]), ints('dilations', [dilation, dilation])],
    });
    return { name: out, channels: o.outChannels };
  }

  relu(x: TensorRef): TensorRef {
    return this.unary('Relu', x);
  }

  add(a: TensorRef, b: TensorRef): TensorRef {
    return this.binary('Add', a, b);
  }

  mul(a: TensorRef, b: TensorRef): TensorRef {
    return this.binary('Mul', a, b);
  }

  /** Stacks tensors along the channel axis. */
  concat(parts: readonly TensorRef[]): TensorRef {
    if (parts.length === 0) throw new RangeError('concat needs at least one input');
    const out = this.fresh('concat');
    this.nodes.push({
      opType: 'Concat',
      name: out,
      input: parts.map((p) => p.name),
      output: [out],
      attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });
    return { name: out, channels: parts.reduce((s, p) => s + p.channels, 0) };
  }

  /** Declares `x` a graph output, renamed to `name` (default `"logits"`) through an Identity node. */
  output(x: TensorRef, name = 'logits'): TensorRef {
    if (this.names.has(name)) throw new Error(`output name ${name} is already used in the graph`);
    this.names.add(name);
    this.nodes.push({ opType: 'Identity', name, input: [x.name], output: [name] });
    this.outputs.push(this.valueInfo(name, x.channels));
    return { name, channels: x.channels };
  }

  /** Serialized ModelProto. */
  build(): Uint8Array {
    if (this.outputs.length === 0) throw new Error('the graph has no output: call output() first');
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: '@fleet/model',
      graph: {
        name: this.options.graphName ?? 'fleet',
        node: this.nodes,
        initializer: this.initializers,
        input: [this.valueInfo(this.input.name, this.input.channels)],
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
  }

  private valueInfo(name: string, channels: number): onnx.IValueInfoProto {
    return {
      name,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: [dim(this.batchDim), dim(channels), dim(this.sizeDims[0]), dim(this.sizeDims[1])] },
        },
      },
    };
  }

  private unary(opType: string, x: TensorRef): TensorRef {
    const out = this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, name: out, input: [x.name], output: [out] });
    return { name: out, channels: x.channels };
  }

  private binary(opType: string, a: TensorRef, b: TensorRef): TensorRef {
    if (a.channels !== b.channels) throw new RangeError(`${opType}: channel counts differ (${a.channels} vs ${b.channels})`);
    const out = this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, name: out, input: [a.name, b.name], output: [out] });
    return { name: out, channels: a.channels };
  }
}
