# The first lines of many training scripts: pick a device, set backend flags, check the version,
# compile the model, train a few steps under autocast with a GradScaler, and print what things are.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(device, repr(device), torch.cuda.is_available(), torch.cuda.device_count())
print(torch.backends.mps.is_available(), torch.accelerator.is_available())
torch.backends.cudnn.benchmark = True
torch.backends.cudnn.deterministic = True
torch.set_float32_matmul_precision("high")
torch.use_deterministic_algorithms(False)
torch.cuda.manual_seed_all(0)
print(torch.__version__ >= "2.0", torch.__version__ < "3", torch.version.cuda)
try:
    torch.zeros(1).cuda()
except AssertionError as e:
    print("no cuda:", type(e).__name__)

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to(device)
compiled = torch.compile(model)
print(type(compiled).__name__, list(compiled.state_dict())[:2])
opt = torch.optim.SGD(compiled.parameters(), lr=0.1)
scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
x = torch.randn(16, 4, device=device)
y = (x.sum(1) > 0).long()
for step in range(3):
    opt.zero_grad()
    with torch.autocast(device_type="cpu", dtype=torch.float16):
        logits = compiled(x)
        loss = F.cross_entropy(logits, y)
    print(step, logits.dtype, loss.dtype, f"{loss.item():.2f}")
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
print(scaler.get_scale(), model[0].weight.dtype, model[0].weight.grad.dtype)

v = Variable(torch.FloatTensor([1, 2, 3]), requires_grad=True)
w = torch.LongTensor([1, 2])
print(v.type(), w.type(), isinstance(v, torch.FloatTensor), v.double().type())
print(type(v), type(v.shape), type(model[0]), type(opt), type(v.dtype))
print(v.data, type(v.grad_fn), (v * 2).grad_fn)
