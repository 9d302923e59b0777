export * from './callback.js';
export * from './common.js';
export * from './final.js';
export * from './profile.js';
export * from './request.js';
export * from './stages.js';
export * from './state.js';
export * from './video-index.js';
