# A multi-resolution STFT loss, istft round trip, and torch.special / numeric helpers.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1)
# a small model trained with a multi-resolution STFT loss plus a spectral low-pass target
sig = torch.sin(torch.linspace(0, 20, 256)) + 0.3 * torch.randn(256)
spec = torch.fft.rfft(sig)
mask = (torch.arange(spec.shape[-1]) < 20).to(spec.dtype)
target = torch.fft.irfft(spec * mask, n=256)

net = nn.Sequential(nn.Linear(256, 64), nn.Tanh(), nn.Linear(64, 256))
opt = torch.optim.SGD(net.parameters(), lr=0.01)

def stft_mag(x, n_fft):
    return torch.stft(x, n_fft, hop_length=n_fft // 4, window=torch.hann_window(n_fft), return_complex=True).abs()

for step in range(5):
    opt.zero_grad()
    y = net(sig.unsqueeze(0)).squeeze(0)
    loss = F.mse_loss(y, target)
    for n_fft in (32, 64):
        loss = loss + (stft_mag(y, n_fft) - stft_mag(target, n_fft)).abs().mean()
    loss = loss + (torch.fft.fft(y).abs() - torch.fft.fft(target).abs()).pow(2).mean() * 1e-3
    loss.backward()
    opt.step()
    print(step, round(loss.item(), 4))

rec = torch.istft(torch.stft(target, 64, hop_length=16, window=torch.hann_window(64), return_complex=True), 64,
                  hop_length=16, window=torch.hann_window(64), length=256)
print((rec - target).abs().max() < 1e-5)
counts = torch.tensor([0., 1., 3., 7.])
rate = torch.tensor([0.5, 1.0, 2.0, 5.0], requires_grad=True)
nll = (rate - counts * torch.log(rate) + torch.special.gammaln(counts + 1)).sum()
nll.backward()
print(nll, rate.grad)
print(torch.special.logsumexp(torch.tensor([[1., 2.], [3., 4.]]), dim=1), torch.special.ndtr(torch.tensor([0., 1.96])))
x = torch.linspace(-3, 3, 7)
print(torch.special.erfcx(x), torch.special.i1e(x), torch.special.xlog1py(x, x.abs()))
print(torch.trapezoid(x.pow(2), x), torch.cumulative_trapezoid(x.exp()), torch.diff(x, n=2))
print(torch.frexp(torch.tensor([8.0, 0.3])), torch.fft.fftshift(torch.fft.fftfreq(6, d=0.1)))
print(torch.hann_window(5), torch.kaiser_window(6, periodic=False))
