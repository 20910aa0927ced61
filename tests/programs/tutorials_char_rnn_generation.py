# -*- coding: utf-8 -*-
# Source: pytorch/tutorials, intermediate_source/char_rnn_generation_tutorial.py (Sean Robertson)
#   https://github.com/pytorch/tutorials/blob/0f52422a3fc395112ad591a5c99b4b4be81fedad/intermediate_source/char_rnn_generation_tutorial.py
# Changes (ember corpus):
#   - the data/names/*.txt download replaced by a small inline {language: [names]} dictionary
#   - random.seed(0) and torch.manual_seed(0) added (the tutorial is unseeded)
#   - torch 2.x spellings of two calls this (2017) version makes: `p.data.add_(-learning_rate,
#     p.grad.data)` -> `p.data.add_(p.grad.data, alpha=-learning_rate)` and `loss.data[0]` ->
#     `loss.item()`, and `target_line_tensor.unsqueeze_(-1)` at the top of train() (NLLLoss of a
#     1x59 input and a 0-dim target fails since torch 0.4); later versions of the tutorial read the same
#   - n_iters 100000 -> 200, print_every 5000 -> 50, plot_every 500 -> 50; the elapsed time dropped
#     from the progress line; matplotlib dropped (all_losses printed instead); prose dropped
import unicodedata
import string
import random

import torch
import torch.nn as nn
from torch.autograd import Variable

random.seed(0)
torch.manual_seed(0)

all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters) + 1 # Plus EOS marker

# Turn a Unicode string to plain ASCII, thanks to http://stackoverflow.com/a/518232/2809427
def unicodeToAscii(s):
    return ''.join(
        c for c in unicodedata.normalize('NFD', s)
        if unicodedata.category(c) != 'Mn'
        and c in all_letters
    )

category_lines = {
    'Russian': ['Ababko', 'Abaev', 'Abagyan', 'Ivanov', 'Smirnov', 'Kuznetsov', 'Popov', 'Sokolov'],
    'German': ['Abbing', 'Abel', 'Abeln', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer'],
    'Spanish': ['Abana', 'Abascal', 'Abat', 'Garcia', 'Fernandez', 'Lopez', 'Martinez', 'Sanchez'],
    'Chinese': ['Ang', 'Au-Yong', 'Bai', 'Chan', 'Chen', 'Cheng', 'Huang', 'Zhang'],
}
all_categories = list(category_lines)
n_categories = len(all_categories)

print('# categories:', n_categories, all_categories)
print(unicodeToAscii("O'Néàl"))


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size

        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(0.1)
        self.softmax = nn.LogSoftmax()

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return Variable(torch.zeros(1, self.hidden_size))


# Random item from a list
def randomChoice(l):
    return l[random.randint(0, len(l) - 1)]

# Get a random category and random line from that category
def randomTrainingPair():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    return category, line


# One-hot vector for category
def categoryTensor(category):
    li = all_categories.index(category)
    tensor = torch.zeros(1, n_categories)
    tensor[0][li] = 1
    return tensor

# One-hot matrix of first to last letters (not including EOS) for input
def inputTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li in range(len(line)):
        letter = line[li]
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor

# LongTensor of second letter to end (EOS) for target
def targetTensor(line):
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1) # EOS
    return torch.LongTensor(letter_indexes)


# Make category, input, and target tensors from a random category, line pair
def randomTrainingExample():
    category, line = randomTrainingPair()
    category_tensor = Variable(categoryTensor(category))
    input_line_tensor = Variable(inputTensor(line))
    target_line_tensor = Variable(targetTensor(line))
    return category_tensor, input_line_tensor, target_line_tensor


criterion = nn.NLLLoss()

learning_rate = 0.0005

def train(category_tensor, input_line_tensor, target_line_tensor):
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()

    rnn.zero_grad()

    loss = 0

    for i in range(input_line_tensor.size()[0]):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        loss += criterion(output, target_line_tensor[i])

    loss.backward()

    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)

    return output, loss.item() / input_line_tensor.size()[0]


rnn = RNN(n_letters, 128, n_letters)

n_iters = 200
print_every = 50
plot_every = 50
all_losses = []
total_loss = 0 # Reset every plot_every iters

for iter in range(1, n_iters + 1):
    output, loss = train(*randomTrainingExample())
    total_loss += loss

    if iter % print_every == 0:
        print('(%d %d%%) %.4f' % (iter, iter / n_iters * 100, loss))

    if iter % plot_every == 0:
        all_losses.append(total_loss / plot_every)
        total_loss = 0

print(all_losses)

max_length = 20

# Sample from a category and starting letter
def sample(category, start_letter='A'):
    category_tensor = Variable(categoryTensor(category))
    input = Variable(inputTensor(start_letter))
    hidden = rnn.initHidden()

    output_name = start_letter

    for i in range(max_length):
        output, hidden = rnn(category_tensor, input[0], hidden)
        topv, topi = output.data.topk(1)
        topi = topi[0][0]
        if topi == n_letters - 1:
            break
        else:
            letter = all_letters[topi]
            output_name += letter
        input = Variable(inputTensor(letter))

    return output_name

# Get multiple samples from one category and multiple starting letters
def samples(category, start_letters='ABC'):
    for start_letter in start_letters:
        print(sample(category, start_letter))

samples('Russian', 'RUS')

samples('German', 'GER')

samples('Spanish', 'SPA')

samples('Chinese', 'CHI')
