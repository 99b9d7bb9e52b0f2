"""An exponential moving average of the model's weights, kept beside the trained ones.

At a CPU's batch of 4 the weights move noisily from step to step; their average over the last ~1/(1-decay) steps sits
nearer the floor of the basin than any single step (the same idea as averaging saved checkpoints, training.average,
but over every step). It starts as a copy of the weights at the step it is turned on, so it needs no bias correction.
"""
import torch


class WeightEMA:
    @staticmethod
    def check_decay(decay):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"--ema must be in (0, 1), e.g. 0.999, or 0 (off) (got {decay})")
        return float(decay)

    def __init__(self, model, decay, state=None):
        self.decay = self.check_decay(decay)
        self.params = {k for k, _ in model.named_parameters()}
        own = model.state_dict()
        if state is not None and (set(state) != set(own) or any(state[k].shape != own[k].shape for k in own)):
            raise ValueError("the checkpoint's EMA weights do not fit the model")
        src = own if state is None else state
        self.state = {k: v.detach().clone() for k, v in src.items()}

    @torch.no_grad()
    def update(self, model):
        for k, v in model.state_dict().items():
            e = self.state[k]
            if k in self.params:
                e.mul_(self.decay).add_(v.detach(), alpha=1.0 - self.decay)
            else:  # buffers (fixed DFT kernels, counters) follow the model: float rounding would move a constant
                e.copy_(v)

    def load_into(self, model):
        model.load_state_dict(self.state)
        return model
