#pragma once
// CIFAR-100's 20 superclasses with their five classes each, written out by hand from the dataset's listing
// (https://www.cs.toronto.edu/~kriz/cifar.html): the independent reference that the reader's coarse labels and
// semantic coherence's class groups are both checked against.
#include <map>
#include <set>
#include <string>

namespace semharness {

inline const std::map<std::string, std::set<std::string>>& cifar100_superclasses() {
  static const std::map<std::string, std::set<std::string>> listing = {
      {"aquatic_mammals", {"beaver", "dolphin", "otter", "seal", "whale"}},
      {"fish", {"aquarium_fish", "flatfish", "ray", "shark", "trout"}},
      {"flowers", {"orchid", "poppy", "rose", "sunflower", "tulip"}},
      {"food_containers", {"bottle", "bowl", "can", "cup", "plate"}},
      {"fruit_and_vegetables", {"apple", "mushroom", "orange", "pear", "sweet_pepper"}},
      {"household_electrical_devices", {"clock", "keyboard", "lamp", "telephone", "television"}},
      {"household_furniture", {"bed", "chair", "couch", "table", "wardrobe"}},
      {"insects", {"bee", "beetle", "butterfly", "caterpillar", "cockroach"}},
      {"large_carnivores", {"bear", "leopard", "lion", "tiger", "wolf"}},
      {"large_man-made_outdoor_things", {"bridge", "castle", "house", "road", "skyscraper"}},
      {"large_natural_outdoor_scenes", {"cloud", "forest", "mountain", "plain", "sea"}},
      {"large_omnivores_and_herbivores", {"camel", "cattle", "chimpanzee", "elephant", "kangaroo"}},
      {"medium_mammals", {"fox", "porcupine", "possum", "raccoon", "skunk"}},
      {"non-insect_invertebrates", {"crab", "lobster", "snail", "spider", "worm"}},
      {"people", {"baby", "boy", "girl", "man", "woman"}},
      {"reptiles", {"crocodile", "dinosaur", "lizard", "snake", "turtle"}},
      {"small_mammals", {"hamster", "mouse", "rabbit", "shrew", "squirrel"}},
      {"trees", {"maple_tree", "oak_tree", "palm_tree", "pine_tree", "willow_tree"}},
      {"vehicles_1", {"bicycle", "bus", "motorcycle", "pickup_truck", "train"}},
      {"vehicles_2", {"lawn_mower", "rocket", "streetcar", "tank", "tractor"}},
  };
  return listing;
}

}  // namespace semharness
