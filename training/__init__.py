"""VoxSplit model pipeline: data cache, dynamic mixing, model, training, export, quantization, eval."""
