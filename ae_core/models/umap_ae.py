"""The UMAP-loss autoencoder, `umap-ae` (Parametric UMAP with a decoder; Sainburg, McInnes & Gentner 2021). Its
code is trained with UMAP's objective as well as the reconstruction: the fuzzy simplicial set of the
training images' k-nearest-neighbour graph (McInnes et al. 2018, section 3), edges sampled by their
membership strength, `negative_sample_rate` negatives per edge, and the cross-entropy between the
graph's memberships and the code's similarities 1 / (1 + a d^(2b)) (Sainburg et al., section 2).
umap-learn builds the graph and the curve's a, b; the loss and its training are torch, in the one
training loop, which calls begin_fit(x_fit) before a stage's epochs and end_fit() after them. The
graph is training state, not a parameter: a saved umap-ae is an ordinary encoder and decoder.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
import torch.nn.functional as F

from .mlp import AE

# Sainburg et al.'s implementation clips probabilities at 1e-4 before the log.
UMAP_EPS = 1e-4
# umap-learn's own cut-off: below it UMAP.fit finds neighbours exactly from all pairwise distances instead of
# with NN-descent, whose numba compilation alone takes about a minute in each new process.
SMALL_DATA = 4096


def ab_params(min_dist: float, spread: float = 1.0) -> tuple[float, float]:
    """UMAP's curve 1 / (1 + a d^(2b)) fitted to its min_dist / spread (umap-learn's own fit)."""
    from umap.umap_ import find_ab_params  # numba compiles on first import: only when asked

    a, b = find_ab_params(spread, min_dist)
    return float(a), float(b)


def fuzzy_graph(x: np.ndarray, n_neighbors: int = 15, seed: int = 0, n_epochs: int = 200):
    """The symmetric fuzzy simplicial set of x's k-NN graph, as edge arrays (heads, tails, weights).

    As umap-learn's own embedding does, edges weaker than max / n_epochs are dropped: they would be
    sampled less than once in UMAP's schedule. Below SMALL_DATA points the neighbours are exact, as in
    UMAP.fit; above it they come from NN-descent.
    """
    from umap.umap_ import fuzzy_simplicial_set

    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32).reshape(len(x), -1))
    k = int(n_neighbors)
    knn = {}
    if len(x) < SMALL_DATA:
        from sklearn.metrics import pairwise_distances

        # each point's k nearest, itself first at distance 0, as umap-learn's own search returns them
        d = pairwise_distances(x)
        idx = np.argsort(d, axis=1, kind="stable")[:, :k]
        knn = {"knn_indices": idx, "knn_dists": np.take_along_axis(d, idx, 1).astype(np.float32)}
    graph, _, _ = fuzzy_simplicial_set(x, k, np.random.RandomState(seed), "euclidean", **knn)
    graph = graph.tocoo()
    keep = graph.data >= graph.data.max() / float(n_epochs)
    return graph.row[keep].astype(np.int64), graph.col[keep].astype(np.int64), graph.data[keep].astype(np.float32)


def umap_cross_entropy(z_head: torch.Tensor, z_tail: torch.Tensor, z_neg: torch.Tensor, a: float, b: float,
                       repulsion: float = 1.0) -> torch.Tensor:
    """UMAP's cross-entropy for positive edges (z_head[i], z_tail[i]) and negatives (z_head[i], z_neg[i, r]).

    Positive pairs are pulled towards similarity 1, negative pairs pushed towards 0: the mean over
    all B + B*R pairs of -[p log q + (1 - p) log(1 - q)] with q = 1 / (1 + a d^(2b)), d the distance
    between the codes and p = 1 for an edge, 0 for a negative; q is clipped to [UMAP_EPS, 1] as in
    Sainburg et al.'s implementation. z_head, z_tail: (B, D); z_neg: (B, R, D).
    """
    d_pos = (z_head - z_tail).pow(2).sum(-1)
    d_neg = (z_head.unsqueeze(1) - z_neg).pow(2).sum(-1).flatten()
    # d^(2b) = (d^2)^b; the floor keeps the gradient of d^b finite where two codes coincide
    q_pos = 1.0 / (1.0 + a * d_pos.clamp_min(1e-10).pow(b))
    q_neg = 1.0 / (1.0 + a * d_neg.clamp_min(1e-10).pow(b))
    attract = -torch.log(q_pos.clamp(UMAP_EPS, 1.0))
    repel = -torch.log((1.0 - q_neg).clamp(UMAP_EPS, 1.0)) * repulsion
    return torch.cat([attract, repel]).mean()


@dataclasses.dataclass
class UMAPAEConfig:
    input_shape: tuple[int, ...] = (1, 28, 28)
    latent_dim: int = 2
    hidden: tuple[int, ...] = (512, 256)
    activation: str = "relu"
    output: str = "sigmoid"
    recon_loss: str = "bce"
    noise: str = "none"
    n_neighbors: int = 15  # of the k-NN graph, UMAP's default
    min_dist: float = 0.1  # UMAP's default; sets the curve's a, b
    negative_sample_rate: int = 5
    repulsion: float = 1.0
    edge_batch: int = 1000  # edges sampled per training step (Sainburg et al.: 1,000)
    umap_weight: float = 1.0
    recon_weight: float = 1.0  # of the per-pixel reconstruction loss
    # Each sampled head image is moved by a random affine map (up to this many pixels, this many degrees)
    # before it is encoded, while its edges stay those of the clean image: the encoder learns that a small
    # shift or turn is the same neighbourhood, which is most of what separates held-out digits from the
    # training ones (4,000 images cover few of them). 0 turns it off (Sainburg et al. do not augment).
    augment_shift: float = 0.0
    augment_degrees: float = 0.0


class UMAPAE(AE):
    """An MLP autoencoder (the `ae` kind's networks) whose code also minimises UMAP's loss.

    Each step encodes a batch of edge heads sampled by membership strength; their tails and the
    negatives (drawn uniformly from the training images, as UMAP draws them) are read from a table
    of every training image's current code. That is how UMAP's own SGD reads the embedding, and it
    halves the encoder passes: the table is refreshed for each head as it is encoded and in full
    at the start of a fit.
    """

    def __init__(self, config: UMAPAEConfig):
        super().__init__(config)
        self._fit = None  # while fitting: images, edges, cumulative weights, code table, a, b

    def begin_fit(self, x_fit: torch.Tensor) -> None:
        """Build the graph of the images to fit and their code table; training.fit calls this first."""
        cfg = self.config
        heads, tails, w = fuzzy_graph(x_fit.detach().cpu().numpy(), cfg.n_neighbors)
        dev = x_fit.device
        with torch.no_grad():
            table = torch.cat([self.encode(x_fit[i:i + 2048]) for i in range(0, len(x_fit), 2048)])
        self._fit = dict(x=x_fit, heads=torch.as_tensor(heads, device=dev), tails=torch.as_tensor(tails, device=dev),
                         cum=torch.as_tensor(np.cumsum(w, dtype=np.float64), device=dev), table=table,
                         ab=ab_params(cfg.min_dist))

    def end_fit(self) -> None:
        self._fit = None

    def umap_loss(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """UMAP's cross-entropy on `edge_batch` edges sampled with probability proportional to weight."""
        cfg, f = self.config, self._fit
        cum, table = f["cum"], f["table"]
        u = torch.rand(cfg.edge_batch, generator=generator, device=cum.device, dtype=cum.dtype) * cum[-1]
        e = torch.searchsorted(cum, u).clamp_max(len(cum) - 1)
        h, t = f["heads"][e], f["tails"][e]
        neg = torch.randint(0, len(table), (cfg.edge_batch, cfg.negative_sample_rate), generator=generator,
                            device=table.device)
        z = self.encode(self._augment(f["x"][h], generator))
        if self.training:
            table[h] = z.detach()
        return umap_cross_entropy(z, table[t], table[neg], *f["ab"], cfg.repulsion)

    def _augment(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """x moved by a random shift and rotation per image (training only), zeros filling the border."""
        cfg = self.config
        if not self.training or (cfg.augment_shift <= 0 and cfg.augment_degrees <= 0) or len(self.input_shape) != 3:
            return x  # points (not images) have no pixels to move
        c, hgt, wid = self.input_shape
        n = len(x)
        r = torch.rand(n, 3, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1
        ang = r[:, 0] * math.radians(cfg.augment_degrees)
        cos, sin = torch.cos(ang), torch.sin(ang)
        # affine_grid works in [-1, 1] coordinates: a shift of s pixels is 2 s / size
        theta = torch.stack([torch.stack([cos, -sin, r[:, 1] * 2 * cfg.augment_shift / wid], 1),
                             torch.stack([sin, cos, r[:, 2] * 2 * cfg.augment_shift / hgt], 1)], 1)
        img = x.reshape(n, c, hgt, wid)
        grid = F.affine_grid(theta, list(img.shape), align_corners=False)
        return F.grid_sample(img, grid, padding_mode="zeros", align_corners=False).reshape(x.shape)

    def loss(self, x, generator=None):
        out = super().loss(x, generator)
        if self._fit is None:  # outside a fit there is no graph: the objective is the reconstruction
            return out
        cfg = self.config
        ce = self.umap_loss(generator)
        # Reconstruction per pixel, as Sainburg et al. weigh it (Keras' mean binary cross-entropy).
        out.update(umap=ce, loss=cfg.umap_weight * ce + cfg.recon_weight * out["recon"] / self.n_in)
        return out
