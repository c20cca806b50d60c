/**
 * The component layout signweave writes to `.pose` files: pose-format's MediaPipe Holistic layout
 * (sign-language-processing/pose, `utils/holistic.py`) fed from the MediaPipe Tasks landmarkers.
 *
 * Names and limbs are those pose-format writes, so files open in its Python tools and viewers:
 * - POSE_LANDMARKS and the hands: MediaPipe's point names; limbs (POSE_CONNECTIONS, HAND_CONNECTIONS) and colours
 *   in the exact order pose-format wrote them to the holistic files in ../shared/data/pose (the iteration order of
 *   MediaPipe's connection sets), so these components' header bytes match those files'.
 * - FACE_LANDMARKS: points "0"…"477", pose-format's names for the refined face mesh (468 + 10 iris points, what the
 *   Tasks FaceLandmarker returns). pose-format's limbs are the 2,556-edge tessellation; we write the contours
 *   (lips, eyes, eyebrows, oval) and the irises from MediaPipe's face_mesh_connections, enough to draw a face.
 */

/** Which field of a landmark frame fills a component. */
export type LandmarkPart = 'pose' | 'face' | 'leftHand' | 'rightHand';

export interface ComponentDefinition {
  part: LandmarkPart;
  name: string;
  format: string;
  points: readonly string[];
  /** Pairs of point indices within the component. */
  limbs: readonly (readonly [number, number])[];
  colors: readonly (readonly [number, number, number])[];
  /**
   * A detected point's confidence: the landmark's `visibility` (pose; 1 if absent) or 1 (face and hands, whose
   * landmarks carry no per-point score), as pose-format's holistic utility does.
   */
  confidence: 'visibility' | 'detected';
}

const POSE_POINTS = [
  'NOSE', 'LEFT_EYE_INNER', 'LEFT_EYE', 'LEFT_EYE_OUTER', 'RIGHT_EYE_INNER', 'RIGHT_EYE', 'RIGHT_EYE_OUTER',
  'LEFT_EAR', 'RIGHT_EAR', 'MOUTH_LEFT', 'MOUTH_RIGHT', 'LEFT_SHOULDER', 'RIGHT_SHOULDER', 'LEFT_ELBOW',
  'RIGHT_ELBOW', 'LEFT_WRIST', 'RIGHT_WRIST', 'LEFT_PINKY', 'RIGHT_PINKY', 'LEFT_INDEX', 'RIGHT_INDEX',
  'LEFT_THUMB', 'RIGHT_THUMB', 'LEFT_HIP', 'RIGHT_HIP', 'LEFT_KNEE', 'RIGHT_KNEE', 'LEFT_ANKLE', 'RIGHT_ANKLE',
  'LEFT_HEEL', 'RIGHT_HEEL', 'LEFT_FOOT_INDEX', 'RIGHT_FOOT_INDEX',
] as const;

const POSE_LIMBS: readonly (readonly [number, number])[] = [
  [15, 21], [16, 20], [18, 20], [3, 7], [14, 16], [23, 25], [28, 30], [11, 23], [27, 31], [6, 8], [15, 17], [24, 26],
  [16, 22], [4, 5], [5, 6], [29, 31], [12, 24], [23, 24], [0, 1], [9, 10], [1, 2], [0, 4], [11, 13], [30, 32],
  [28, 32], [15, 19], [16, 18], [25, 27], [26, 28], [12, 14], [17, 19], [2, 3], [11, 12], [27, 29], [13, 15],
];

const HAND_POINTS = [
  'WRIST', 'THUMB_CMC', 'THUMB_MCP', 'THUMB_IP', 'THUMB_TIP', 'INDEX_FINGER_MCP', 'INDEX_FINGER_PIP',
  'INDEX_FINGER_DIP', 'INDEX_FINGER_TIP', 'MIDDLE_FINGER_MCP', 'MIDDLE_FINGER_PIP', 'MIDDLE_FINGER_DIP',
  'MIDDLE_FINGER_TIP', 'RING_FINGER_MCP', 'RING_FINGER_PIP', 'RING_FINGER_DIP', 'RING_FINGER_TIP', 'PINKY_MCP',
  'PINKY_PIP', 'PINKY_DIP', 'PINKY_TIP',
] as const;

const HAND_LIMBS: readonly (readonly [number, number])[] = [
  [3, 4], [0, 5], [17, 18], [0, 17], [13, 14], [13, 17], [18, 19], [5, 6], [5, 9], [14, 15], [0, 1], [9, 10], [1, 2],
  [9, 13], [10, 11], [19, 20], [6, 7], [15, 16], [2, 3], [11, 12], [7, 8],
];

// pose-format's OpenPose hand palette (one colour per point, shaded per finger); values above 255 are in the files.
const HAND_COLORS: readonly (readonly [number, number, number])[] = [
  [232, 232, 232],
  [192, 0, 0], [227, 35, 35], [262, 70, 70], [297, 105, 105],
  [192, 192, 0], [227, 227, 35], [262, 262, 70], [297, 297, 105],
  [0, 192, 0], [35, 227, 35], [70, 262, 70], [105, 297, 105],
  [0, 192, 192], [35, 227, 227], [70, 262, 262], [105, 297, 297],
  [0, 0, 192], [35, 35, 227], [70, 70, 262], [105, 105, 297],
];

/** 468 face-mesh points plus the 10 iris points of the refined mesh. */
export const FACE_POINT_COUNT = 478;

// MediaPipe face_mesh_connections: FACEMESH_CONTOURS (lips, left eye, left eyebrow, right eye, right eyebrow, oval)
// followed by FACEMESH_IRISES (left, right).
const FACE_LIMBS: readonly (readonly [number, number])[] = [
  // lips
  [61, 146], [146, 91], [91, 181], [181, 84], [84, 17], [17, 314], [314, 405], [405, 321], [321, 375], [375, 291],
  [61, 185], [185, 40], [40, 39], [39, 37], [37, 0], [0, 267], [267, 269], [269, 270], [270, 409], [409, 291],
  [78, 95], [95, 88], [88, 178], [178, 87], [87, 14], [14, 317], [317, 402], [402, 318], [318, 324], [324, 308],
  [78, 191], [191, 80], [80, 81], [81, 82], [82, 13], [13, 312], [312, 311], [311, 310], [310, 415], [415, 308],
  // left eye
  [263, 249], [249, 390], [390, 373], [373, 374], [374, 380], [380, 381], [381, 382], [382, 362],
  [263, 466], [466, 388], [388, 387], [387, 386], [386, 385], [385, 384], [384, 398], [398, 362],
  // left eyebrow
  [276, 283], [283, 282], [282, 295], [295, 285], [300, 293], [293, 334], [334, 296], [296, 336],
  // right eye
  [33, 7], [7, 163], [163, 144], [144, 145], [145, 153], [153, 154], [154, 155], [155, 133],
  [33, 246], [246, 161], [161, 160], [160, 159], [159, 158], [158, 157], [157, 173], [173, 133],
  // right eyebrow
  [46, 53], [53, 52], [52, 65], [65, 55], [70, 63], [63, 105], [105, 66], [66, 107],
  // face oval
  [10, 338], [338, 297], [297, 332], [332, 284], [284, 251], [251, 389], [389, 356], [356, 454], [454, 323],
  [323, 361], [361, 288], [288, 397], [397, 365], [365, 379], [379, 378], [378, 400], [400, 377], [377, 152],
  [152, 148], [148, 176], [176, 149], [149, 150], [150, 136], [136, 172], [172, 58], [58, 132], [132, 93], [93, 234],
  [234, 127], [127, 162], [162, 21], [21, 54], [54, 103], [103, 67], [67, 109], [109, 10],
  // irises
  [474, 475], [475, 476], [476, 477], [477, 474],
  [469, 470], [470, 471], [471, 472], [472, 469],
];

/** POSE_LANDMARKS (33), FACE_LANDMARKS (478), LEFT_HAND_LANDMARKS (21), RIGHT_HAND_LANDMARKS (21), all XYZC. */
export const MEDIAPIPE_COMPONENTS: readonly ComponentDefinition[] = [
  { part: 'pose', name: 'POSE_LANDMARKS', format: 'XYZC', points: POSE_POINTS, limbs: POSE_LIMBS, colors: [[255, 0, 0]], confidence: 'visibility' },
  {
    part: 'face',
    name: 'FACE_LANDMARKS',
    format: 'XYZC',
    points: Array.from({ length: FACE_POINT_COUNT }, (_, i) => String(i)),
    limbs: FACE_LIMBS,
    colors: [[128, 0, 0]],
    confidence: 'detected',
  },
  { part: 'leftHand', name: 'LEFT_HAND_LANDMARKS', format: 'XYZC', points: HAND_POINTS, limbs: HAND_LIMBS, colors: HAND_COLORS, confidence: 'detected' },
  { part: 'rightHand', name: 'RIGHT_HAND_LANDMARKS', format: 'XYZC', points: HAND_POINTS, limbs: HAND_LIMBS, colors: HAND_COLORS, confidence: 'detected' },
];
