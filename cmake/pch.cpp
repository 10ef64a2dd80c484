// Compiled only to produce the shared precompiled header of <torch/torch.h> (see CMakeLists.txt).
