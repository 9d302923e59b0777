import { stem } from './stem.js';

/** The 80 COCO labels, spelled as the detector (CenterNet via @vladmandic/human) reports them. */
export const COCO_LABELS = [
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'airplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic light',
  'fire hydrant',
  'stop sign',
  'parking meter',
  'bench',
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
  'backpack',
  'umbrella',
  'handbag',
  'tie',
  'suitcase',
  'frisbee',
  'skis',
  'snowboard',
  'sports ball',
  'kite',
  'baseball bat',
  'baseball glove',
  'skateboard',
  'surfboard',
  'tennis racket',
  'bottle',
  'wine glass',
  'cup',
  'fork',
  'knife',
  'spoon',
  'bowl',
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot dog',
  'pizza',
  'donut',
  'cake',
  'chair',
  'couch',
  'potted plant',
  'bed',
  'dining table',
  'toilet',
  'tv',
  'laptop',
  'mouse',
  'remote',
  'keyboard',
  'cell phone',
  'microwave',
  'oven',
  'toaster',
  'sink',
  'refrigerator',
  'book',
  'clock',
  'vase',
  'scissors',
  'teddy bear',
  'hair drier',
  'toothbrush',
] as const;
export type CocoLabel = (typeof COCO_LABELS)[number];

const ROAD_VEHICLES: CocoLabel[] = ['car', 'truck', 'bus', 'motorcycle', 'bicycle'];
const ANIMALS: CocoLabel[] = [
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
];
const FOOD: CocoLabel[] = [
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot dog',
  'pizza',
  'donut',
  'cake',
];

/**
 * Words and phrases (besides the labels themselves) that name labels:
 * synonyms, irregular plurals and category words. Regular plurals need no
 * entry: keys are compared stemmed, so "cars" meets "car". Entries are
 * separated by spaces; `_` joins the words of a multi-word entry.
 */
const SYNONYMS: ReadonlyArray<[string, readonly CocoLabel[]]> = [
  // people
  [
    'people persons someone somebody anyone anybody human humans man men woman women child children kid kids boy girl guy guys lady ladies gentleman gentlemen pedestrian crowd player rider driver adult baby face',
    ['person'],
  ],
  // vehicles
  ['vehicle traffic', ROAD_VEHICLES],
  ['automobile sedan taxi cab suv jeep', ['car']],
  ['motorbike motorbikes motorcyclist scooter moped', ['motorcycle']],
  ['bike bikes', ['bicycle', 'motorcycle']],
  ['cycle bicycles cyclist', ['bicycle']],
  ['lorry lorries pickup', ['truck']],
  ['van', ['truck', 'car']],
  ['coach minibus buses', ['bus']],
  ['plane planes aeroplane aircraft jet airliner', ['airplane']],
  ['ship ships yacht canoe kayak sailboat ferry', ['boat']],
  ['locomotive railway tram subway', ['train']],
  ['traffic_lights stoplight stoplights', ['traffic light']],
  ['hydrant', ['fire hydrant']],
  // animals
  ['animal animals wildlife', ANIMALS],
  ['pet pets', ['cat', 'dog']],
  ['kitten kitty kittens', ['cat']],
  ['puppy puppies', ['dog']],
  ['cattle bull calf calves', ['cow']],
  ['pony ponies', ['horse']],
  ['lamb lambs', ['sheep']],
  // things people carry and use
  ['bag bags', ['backpack', 'handbag', 'suitcase']],
  ['rucksack', ['backpack']],
  ['purse', ['handbag']],
  ['luggage', ['suitcase']],
  ['necktie ties', ['tie']],
  ['ski', ['skis']],
  ['ball football soccer basketball', ['sports ball']],
  ['bat', ['baseball bat']],
  ['glove mitt', ['baseball glove']],
  ['racket racquet', ['tennis racket']],
  ['glass glasses', ['wine glass', 'cup']],
  ['mug', ['cup']],
  ['knives', ['knife']],
  ['cutlery', ['fork', 'knife', 'spoon']],
  ['food meal', FOOD],
  ['fruit fruits', ['banana', 'apple', 'orange']],
  ['vegetable vegetables', ['broccoli', 'carrot']],
  ['doughnut doughnuts', ['donut']],
  ['furniture', ['chair', 'couch', 'bed', 'dining table', 'bench']],
  ['sofa', ['couch']],
  ['table', ['dining table']],
  ['plant plants flower flowers', ['potted plant']],
  ['television monitor screen', ['tv']],
  ['computer notebook', ['laptop']],
  ['phone phones smartphone mobile', ['cell phone']],
  ['fridge', ['refrigerator']],
  ['kitchen', ['microwave', 'oven', 'toaster', 'sink', 'refrigerator']],
  ['teddy', ['teddy bear']],
  ['hairdryer hair_dryer', ['hair drier']],
  ['mice', ['mouse']],
];

/** A normalized key: each word lower-cased and stemmed, joined by one space. */
export const lexiconKey = (words: readonly string[]): string => words.map((w) => stem(w)).join(' ');

function buildLexicon(): Map<string, CocoLabel[]> {
  const map = new Map<string, CocoLabel[]>();
  const add = (phrase: string, labels: readonly CocoLabel[]) => {
    const key = lexiconKey(phrase.split(' '));
    const known = map.get(key) ?? [];
    map.set(key, [...new Set([...known, ...labels])]);
  };
  for (const label of COCO_LABELS) add(label, [label]);
  for (const [words, labels] of SYNONYMS) {
    for (const phrase of words.split(/\s+/)) add(phrase.replaceAll('_', ' '), labels);
  }
  return map;
}

/** Stemmed word or phrase → the labels it names. */
export const LEXICON: ReadonlyMap<string, readonly CocoLabel[]> = buildLexicon();

/** The longest phrase in the lexicon, in words: how far the query scanner looks ahead. */
export const MAX_PHRASE_WORDS = Math.max(...[...LEXICON.keys()].map((k) => k.split(' ').length));
