import type { ModelManifest } from './model-manifest';

/**
 * FLAIR-INC_RVBIE_resnet34_unet_15cl_norm's contract (shared/FLAIR.md), for code that builds
 * compatible models (the demo model) and for checking `models/flair-inc/model.json`.
 */
export const FLAIR_INC_BANDS: ModelManifest['bands'] = ['R', 'G', 'B', 'NIR', 'E'];
/** Normalisation on raw 0..255 values: (x - mean) / std, in band order R, G, B, NIR, E. */
export const FLAIR_INC_MEAN = [105.08, 110.87, 101.82, 106.38, 53.26];
export const FLAIR_INC_STD = [52.17, 45.38, 44.0, 39.69, 79.3];
/** The model outputs 19 logits although it has 15 classes: logit i is FLAIR class id i + 1. */
export const FLAIR_INC_LOGITS = 19;

/** The 15 enabled classes. Logits 14, 15, 16, 18 (clear cut, mixed, ligneous, other) were switched off in training and are left out so they never win. */
export const FLAIR_INC_CLASSES: ModelManifest['classes'] = [
  { logit: 0, id: 1, name: 'building', color: '#db0e9a' },
  { logit: 1, id: 2, name: 'pervious surface', color: '#938e7b' },
  { logit: 2, id: 3, name: 'impervious surface', color: '#f80c00' },
  { logit: 3, id: 4, name: 'bare soil', color: '#a97101' },
  { logit: 4, id: 5, name: 'water', color: '#1553ae' },
  { logit: 5, id: 6, name: 'coniferous', color: '#194a26' },
  { logit: 6, id: 7, name: 'deciduous', color: '#46e483' },
  { logit: 7, id: 8, name: 'brushwood', color: '#f3a60d' },
  { logit: 8, id: 9, name: 'vineyard', color: '#660082' },
  { logit: 9, id: 10, name: 'herbaceous vegetation', color: '#55ff00' },
  { logit: 10, id: 11, name: 'agricultural land', color: '#fff30d' },
  { logit: 11, id: 12, name: 'plowed land', color: '#e4df7c' },
  { logit: 12, id: 13, name: 'swimming pool', color: '#3de6eb' },
  { logit: 13, id: 14, name: 'snow', color: '#ffffff' },
  { logit: 17, id: 18, name: 'greenhouse', color: '#9999ff' },
];
