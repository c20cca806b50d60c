export { argmax, gumbelSoftmax, softmax, softmaxRows, type GumbelOptions, type GumbelSample, type RouterEngine } from './gumbel.js';
export { poolSegments, segmentFrames, type PooledSegments, type PoolingOptions, type Segment } from './pooling.js';
export {
  frameWeights,
  initLinearLayers,
  Mlp,
  Router,
  ROUTER_CLASSES,
  type Activation,
  type FrameWeights,
  type LinearLayer,
  type RouteOptions,
  type RouterClass,
  type RouterConfig,
  type RouterDecision,
} from './router.js';
