# Fitting a signal's spectrum with torch.fft, and a look at complex results.
import torch

torch.manual_seed(0)
t = torch.linspace(0, 1, 64)
target = torch.sin(2 * torch.pi * 5 * t) + 0.5 * torch.sin(2 * torch.pi * 12 * t)
spec_t = torch.fft.rfft(target)
x = torch.zeros(64, requires_grad=True)
opt = torch.optim.Adam([x], lr=0.05)
for step in range(30):
    opt.zero_grad()
    s = torch.fft.rfft(x)
    loss = (s - spec_t).abs().pow(2).mean() + 0.1 * torch.stft(x, 16, hop_length=4, window=torch.hann_window(16), return_complex=True).abs().mean()
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(step, f"{loss.item():.4f}")
print(torch.fft.fftfreq(8), torch.fft.fftshift(torch.arange(6)))
print(torch.special.erfcx(torch.tensor([0.5, 1.0])), torch.special.i0e(torch.tensor([1.0])))
print(torch.logaddexp(torch.tensor([1.0]), torch.tensor([2.0])), torch.diff(torch.tensor([1, 4, 9, 16])), torch.trapezoid(torch.tensor([1., 2., 3.])))
z = torch.fft.fft(torch.tensor([1.0, 2.0, 3.0, 4.0]))
print(z, z.real, z.imag, z.abs(), z.angle())
print(torch.stft(torch.arange(8.), 4, return_complex=True, window=torch.ones(4)))
