/**
 * signweave's ONNX layer: the op table, the typed graph builder, module builders, ONNX file reading and the one
 * ONNX Runtime entry point.
 */
export { GraphBuilder, OnnxModel, Value, initialValues, type GraphBuilderOptions, type GraphNode, type Init, type ParamSpec, type ParameterInfo, type ToBytesOptions } from './builder.js';
export { IR_VERSION, OPS, OPSET, ShapeError, erf, type AttrsOf, type Emitter, type NoAttrs, type OnnxAttr, type OpDef, type OpName, type Port, type ValueInfo, type VjpArgs } from './ops.js';
export * from './modules.js';
export { readOnnxInfo, readOnnxWeights, type InitializerInfo, type OnnxFileInfo } from './proto.js';
export { ONNX_RUNTIME_VERSION, OnnxSession, type SessionOptions } from './session.js';
export { bool, float32, fromNumbers, int64, toNumbers, type DType, type Dim, type ElementType, type HostTensor, type TensorSpec } from './tensor.js';
