import onnxProto from 'onnx-proto';

/** The ONNX protobuf schema, as compiled by the onnx-proto package (protobufjs). */
export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';

export const OPSET = 13;
export const IR_VERSION = 7;
export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
