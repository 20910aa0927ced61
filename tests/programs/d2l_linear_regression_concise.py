# Source: d2l-ai/d2l-zh, chapter_linear-networks/linear-regression-concise.md (the PyTorch cells)
#   https://github.com/d2l-ai/d2l-zh/blob/08b2b506ccb27cae5c3bd669863637690c78abdb/chapter_linear-networks/linear-regression-concise.md
# Changes (ember corpus):
#   - the PyTorch cells concatenated; `from d2l import torch as d2l` replaced by the helpers used:
#     d2l.tensor, d2l.reshape and d2l.synthetic_data (copied from the from-scratch chapter)
#   - torch.manual_seed(0) added; the notebook's bare `next(iter(data_iter))` wrapped in print()
import numpy as np
import torch
from torch.utils import data


class d2l:  # the helpers of d2l/torch.py this chapter uses
    tensor = torch.tensor
    reshape = staticmethod(lambda x, *args, **kwargs: x.reshape(*args, **kwargs))

    @staticmethod
    def synthetic_data(w, b, num_examples):  #@save
        """生成 y = Xw + b + 噪声。"""
        X = torch.normal(0, 1, (num_examples, len(w)))
        y = torch.matmul(X, w) + b
        y += torch.normal(0, 0.01, y.shape)
        return X, y.reshape((-1, 1))


torch.manual_seed(0)

true_w = d2l.tensor([2, -3.4])
true_b = 4.2
features, labels = d2l.synthetic_data(true_w, true_b, 1000)


def load_array(data_arrays, batch_size, is_train=True):  #@save
    """构造一个PyTorch数据迭代器"""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


batch_size = 10
data_iter = load_array((features, labels), batch_size)

print(next(iter(data_iter)))

# nn是神经网络的缩写
from torch import nn
net = nn.Sequential(nn.Linear(2, 1))

net[0].weight.data.normal_(0, 0.01)
net[0].bias.data.fill_(0)

loss = nn.MSELoss()

trainer = torch.optim.SGD(net.parameters(), lr=0.03)

num_epochs = 3
for epoch in range(num_epochs):
    for X, y in data_iter:
        l = loss(net(X) ,y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(features), labels)
    print(f'epoch {epoch + 1}, loss {l:f}')

w = net[0].weight.data
print('w的估计误差：', true_w - d2l.reshape(w, true_w.shape))
b = net[0].bias.data
print('b的估计误差：', true_b - b)
