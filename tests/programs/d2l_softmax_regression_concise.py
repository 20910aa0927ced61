# Source: d2l-ai/d2l-zh, chapter_linear-networks/softmax-regression-concise.md (the PyTorch cells)
#   https://github.com/d2l-ai/d2l-zh/blob/0a48a580947dbcb69dbce93060e26a2111ec5b68/chapter_linear-networks/softmax-regression-concise.md
# Changes (ember corpus):
#   - `d2l.load_data_fashion_mnist(batch_size)` replaced by seeded random 1x28x28 images and labels
#     (256 train, 128 test); torch.manual_seed(0) added; batch_size 256 -> 64, num_epochs 10 -> 2
#   - the d2l helpers used (Accumulator, accuracy, evaluate_accuracy, train_epoch_ch3, train_ch3,
#     get_fashion_mnist_labels, predict_ch3) inlined as d2l/torch.py writes them; train_ch3's
#     Animator and its accuracy asserts replaced by a print per epoch, predict_ch3's images by a print
#   - notebook cells' displayed values printed with print(); the data iterators built once, after the helpers
import torch
from torch import nn
from torch.utils import data


class Accumulator:  #@save
    """在n个变量上累加"""
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def accuracy(y_hat, y):  #@save
    """计算预测正确的数量"""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter):  #@save
    """计算在指定数据集上模型的精度"""
    if isinstance(net, torch.nn.Module):
        net.eval()  # 将模型设置为评估模式
    metric = Accumulator(2)  # 正确预测数、预测总数
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch_ch3(net, train_iter, loss, updater):  #@save
    """训练模型一个迭代周期（定义见第3章）"""
    # 将模型设置为训练模式
    if isinstance(net, torch.nn.Module):
        net.train()
    # 训练损失总和、训练准确度总和、样本数
    metric = Accumulator(3)
    for X, y in train_iter:
        # 计算梯度并更新参数
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            # 使用PyTorch内置的优化器和损失函数
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            # 使用定制的优化器和损失函数
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    # 返回训练损失和训练精度
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):  #@save
    """训练模型（定义见第3章）"""
    for epoch in range(num_epochs):
        train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        print(epoch + 1, train_metrics + (test_acc,))


def get_fashion_mnist_labels(labels):  #@save
    """返回Fashion-MNIST数据集的文本标签"""
    text_labels = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat',
                   'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']
    return [text_labels[int(i)] for i in labels]


def predict_ch3(net, test_iter, n=6):  #@save
    """预测标签（定义见第3章）"""
    for X, y in test_iter:
        break
    trues = get_fashion_mnist_labels(y)
    preds = get_fashion_mnist_labels(net(X).argmax(axis=1))
    titles = [true +'\n' + pred for true, pred in zip(trues, preds)]
    print(titles[0:n])


torch.manual_seed(0)
batch_size = 64
train_iter = data.DataLoader(data.TensorDataset(torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))),
                             batch_size, shuffle=True)
test_iter = data.DataLoader(data.TensorDataset(torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))),
                            batch_size, shuffle=False)


# PyTorch不会隐式地调整输入的形状。因此，
# 我们在线性层前定义了展平层（flatten），来调整网络输入的形状
net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)

net.apply(init_weights);

loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=0.1)
num_epochs = 2
train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer)
